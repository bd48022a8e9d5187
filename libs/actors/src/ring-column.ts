/**
 * One column of the DedupeRing, in pages of PAGE slots, so that doubling the ring moves
 * page references instead of copying every entry. Doubling flat columns at 1,048,576
 * entries allocated some 200 MB at once and copied it (136 ms here, most of it a full
 * mark-compact the allocation set off): a stall near the peer timeout on every node
 * crossing that count. Paged, a doubling copies at most one page per column (the one
 * the head's slot cuts in two) and the new pages are allocated as the tail reaches them.
 *
 * Below PAGE slots a column is one page of the ring's capacity, copied when it doubles
 * (at most PAGE entries).
 */
const PAGE_BITS = 12;
const PAGE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE - 1;

/** What a page is: a typed array or a plain array. */
interface Page<T> {
  [i: number]: T;
}

export interface RingColumn<T> {
  get(slot: number): T;
  set(slot: number, value: T): void;
  /** Re-lays the column for twice `oldCapacity` slots; the ring is full, its oldest position `head`. */
  grow(head: number, oldCapacity: number): void;
}

/**
 * A column class over pages made by `make`. A class per element type (not one generic
 * class) keeps each column's page accesses monomorphic.
 */
function columnClass<T>(make: (n: number) => Page<T>, blank: T): new (capacity: number) => RingColumn<T> {
  return class implements RingColumn<T> {
    /** Pages by slot >>> PAGE_BITS; null until a slot in it is first set. */
    private pages: (Page<T> | null)[] = [null];
    private pageSize: number;

    constructor(capacity: number) {
      this.pageSize = Math.min(capacity, PAGE);
    }

    get(slot: number): T {
      const p = this.pages[slot >>> PAGE_BITS]!;
      return p === null ? blank : p[slot & PAGE_MASK]!;
    }

    set(slot: number, value: T): void {
      const i = slot >>> PAGE_BITS;
      (this.pages[i] ??= make(this.pageSize))[slot & PAGE_MASK] = value;
    }

    grow(head: number, oldCapacity: number): void {
      const capacity = oldCapacity * 2;
      if (capacity <= PAGE) {
        // One small page: copy each position to its slot in the doubled ring.
        const old = this.pages[0]!;
        this.pageSize = capacity;
        if (old === null) return;
        const next = make(capacity);
        for (let pos = head; pos < head + oldCapacity; pos++) next[pos & (capacity - 1)] = old[pos & (oldCapacity - 1)]!;
        this.pages = [next];
        return;
      }
      // The full ring holds positions [head, head + old capacity). Slot s >= h (the
      // head's slot) holds lap `base + s`, slot s < h the next lap: a position keeps its
      // slot or moves up by the old capacity, by lap. Whole pages move as one; the page
      // h falls inside of is split in two.
      const n = this.pages.length;
      const h = head & (oldCapacity - 1);
      const base = head - h;
      const thisLap = (base & oldCapacity) === 0 ? 0 : n;
      const nextLap = n - thisLap;
      const next: (Page<T> | null)[] = new Array<Page<T> | null>(2 * n).fill(null);
      for (let k = 0; k < n; k++) {
        const page = this.pages[k]!;
        const from = k * PAGE;
        if (h <= from) next[k + thisLap] = page;
        else if (h >= from + PAGE) next[k + nextLap] = page;
        else if (page !== null) {
          // Slots [from, h) are the next lap: copied out; [h, from + PAGE) stay.
          const moved = make(PAGE);
          for (let i = 0; i < h - from; i++) {
            moved[i] = page[i]!;
            page[i] = blank;
          }
          next[k + nextLap] = moved;
          next[k + thisLap] = page;
        }
      }
      this.pages = next;
    }
  };
}

export const RefColumn = columnClass<unknown>((n) => new Array<unknown>(n).fill(undefined), undefined) as new <T>(
  capacity: number,
) => RingColumn<T | undefined>;
export const F64Column = columnClass<number>((n) => new Float64Array(n), 0);
export const I32Column = columnClass<number>((n) => new Int32Array(n), 0);
export const U32Column = columnClass<number>((n) => new Uint32Array(n), 0);
export const U8Column = columnClass<number>((n) => new Uint8Array(n), 0);
