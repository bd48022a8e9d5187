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

/**
 * The capacity of a column that only appends (the asset store's): no ring reaches it,
 * so it never grows; its pages are allocated as rows reach them.
 */
export const APPEND_ONLY = 2 ** 31;

/** What a page is: a typed array or a plain array. */
export interface Page<T> {
  [i: number]: T;
}

export interface RingColumn<T> {
  get(slot: number): T;
  set(slot: number, value: T): void;
  /** Re-lays the column for twice `oldCapacity` slots; the ring is full, its oldest position `head`. */
  grow(head: number, oldCapacity: number): void;
}

/**
 * The pages of a column (or of rows `width` wide) re-laid for twice `oldCapacity`
 * slots; the ring is full, its oldest position `head`.
 */
function grownPages<T>(
  pages: (Page<T> | null)[],
  head: number,
  oldCapacity: number,
  width: number,
  make: (n: number) => Page<T>,
  blank: T,
): (Page<T> | null)[] {
  const capacity = oldCapacity * 2;
  if (capacity <= PAGE) {
    // One small page: copy each position to its slot in the doubled ring.
    const old = pages[0]!;
    if (old === null) return pages;
    const next = make(capacity * width);
    for (let pos = head; pos < head + oldCapacity; pos++) {
      const to = (pos & (capacity - 1)) * width;
      const from = (pos & (oldCapacity - 1)) * width;
      for (let f = 0; f < width; f++) next[to + f] = old[from + f]!;
    }
    return [next];
  }
  // The full ring holds positions [head, head + old capacity). Slot s >= h (the
  // head's slot) holds lap `base + s`, slot s < h the next lap: a position keeps its
  // slot or moves up by the old capacity, by lap. Whole pages move as one; the page
  // h falls inside of is split in two.
  const n = pages.length;
  const h = head & (oldCapacity - 1);
  const base = head - h;
  const thisLap = (base & oldCapacity) === 0 ? 0 : n;
  const nextLap = n - thisLap;
  const next: (Page<T> | null)[] = new Array<Page<T> | null>(2 * n).fill(null);
  for (let k = 0; k < n; k++) {
    const page = pages[k]!;
    const from = k * PAGE;
    if (h <= from) next[k + thisLap] = page;
    else if (h >= from + PAGE) next[k + nextLap] = page;
    else if (page !== null) {
      // Slots [from, h) are the next lap: copied out; [h, from + PAGE) stay.
      const moved = make(PAGE * width);
      for (let i = 0; i < (h - from) * width; i++) {
        moved[i] = page[i]!;
        page[i] = blank;
      }
      next[k + nextLap] = moved;
      next[k + thisLap] = page;
    }
  }
  return next;
}

/**
 * The page table of a new column: a null per page its capacity spans. (One entry, as it
 * was, served columns made small and grown; the loose column, made on first use at the
 * ring's capacity, then read past its first page after a snapshot of millions of packed
 * rows was loaded.) A ring column's growth re-lays the whole table, so it must be full.
 */
function noPages<T>(capacity: number): (Page<T> | null)[] {
  // An append-only column never grows (so needs no full table) and only reads rows it set.
  if (capacity >= APPEND_ONLY) return [null];
  return new Array<Page<T> | null>(Math.max(1, Math.ceil(capacity / PAGE))).fill(null);
}

/**
 * A column class over pages made by `make`. A class per element type (not one generic
 * class) keeps each column's page accesses monomorphic.
 */
function columnClass<T>(make: (n: number) => Page<T>, blank: T): new (capacity: number) => RingColumn<T> {
  return class implements RingColumn<T> {
    /** Pages by slot >>> PAGE_BITS; null until a slot in it is first set. */
    private pages: (Page<T> | null)[];
    private pageSize: number;

    constructor(capacity: number) {
      this.pages = noPages(capacity);
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
      this.pages = grownPages(this.pages, head, oldCapacity, 1, make, blank);
      this.pageSize = Math.min(oldCapacity * 2, PAGE);
    }
  };
}

/**
 * Several number fields of each slot side by side in one page (`width` per slot), so
 * that a row is written with one page lookup instead of one per field: the caller
 * writes `page(slot)[offset(slot) + field]`; a read names the field.
 */
export interface RingRows {
  /** The page holding the slot's row, allocated on first use. */
  page(slot: number): Page<number>;
  /** Where the slot's row starts in its page. */
  offset(slot: number): number;
  get(slot: number, field: number): number;
  grow(head: number, oldCapacity: number): void;
}

function rowsClass(make: (n: number) => Page<number>): new (capacity: number, width: number) => RingRows {
  return class implements RingRows {
    private pages: (Page<number> | null)[];
    private pageSlots: number;

    constructor(
      capacity: number,
      private readonly width: number,
    ) {
      this.pages = noPages(capacity);
      this.pageSlots = Math.min(capacity, PAGE);
    }

    page(slot: number): Page<number> {
      return (this.pages[slot >>> PAGE_BITS] ??= make(this.pageSlots * this.width));
    }

    offset(slot: number): number {
      return (slot & PAGE_MASK) * this.width;
    }

    get(slot: number, field: number): number {
      const p = this.pages[slot >>> PAGE_BITS]!;
      return p === null ? 0 : p[(slot & PAGE_MASK) * this.width + field]!;
    }

    grow(head: number, oldCapacity: number): void {
      this.pages = grownPages(this.pages, head, oldCapacity, this.width, make, 0);
      this.pageSlots = Math.min(oldCapacity * 2, PAGE);
    }
  };
}

export const RefColumn = columnClass<unknown>((n) => new Array<unknown>(n).fill(undefined), undefined) as new <T>(
  capacity: number,
) => RingColumn<T | undefined>;
export const F64Rows = rowsClass((n) => new Float64Array(n));
export const U32Rows = rowsClass((n) => new Uint32Array(n));
