/**
 * The remembered requests, oldest first, as columns: one typed array per number field
 * and one plain array per string field, indexed by ring slot (absolute position masked
 * by the capacity). A million remembered ids are then a million id strings plus a few
 * large arrays, instead of a million entry objects the garbage collector has to visit
 * and move on every full collection (docs/ARCHITECTURE.md, "Memory layout"). Args and
 * outcome are MessagePack in shared slabs (MsgWriter), placed by offsets.
 *
 * Entries leave at the head in order; positions are absolute and never reused, so an
 * index or a snapshot walk can hold one while the ring moves on. A slot is reused once
 * the position `capacity` later is pushed; whoever still needs the old row (a snapshot
 * walk) must take it before (`onOverwrite`).
 */
import type { Args } from '@txtest/protocol';

const CAPACITY_MIN = 64;

export class DedupeRing {
  /** Position of the oldest entry; `tail` is where the next one goes. */
  head = 0;
  tail = 0;
  private mask = CAPACITY_MIN - 1;
  ids: (string | undefined)[] = new Array<string | undefined>(CAPACITY_MIN);
  assets: (string | undefined)[] = new Array<string | undefined>(CAPACITY_MIN);
  ops: (string | undefined)[] = new Array<string | undefined>(CAPACITY_MIN);
  hashes = new Int32Array(CAPACITY_MIN);
  seqs = new Float64Array(CAPACITY_MIN);
  tss = new Float64Array(CAPACITY_MIN);
  versions = new Float64Array(CAPACITY_MIN);
  epochs = new Uint32Array(CAPACITY_MIN);
  oks = new Uint8Array(CAPACITY_MIN);
  /** The slab of a packed entry (args at..mid, outcome mid..end); null while unpacked. */
  slabs: (Buffer | null | undefined)[] = new Array<Buffer | null | undefined>(CAPACITY_MIN);
  packedAt = new Uint32Array(CAPACITY_MIN);
  packedMid = new Uint32Array(CAPACITY_MIN);
  packedEnd = new Uint32Array(CAPACITY_MIN);
  /** [args, outcome] of entries inserted unpacked (a recovery's), by slot; allocated on first use. */
  loose: ([Args | undefined, unknown] | undefined)[] | null = null;

  /** Called with a position whose slot is about to be reused (see the module comment). */
  onOverwrite: ((pos: number) => void) | null = null;

  get length(): number {
    return this.tail - this.head;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  slot(pos: number): number {
    return pos & this.mask;
  }

  /** Claims the next position (growing when the ring is full) and returns its slot. */
  claim(): number {
    if (this.tail - this.head === this.mask + 1) this.grow();
    const pos = this.tail++;
    const old = pos - this.mask - 1;
    if (old >= 0 && this.onOverwrite !== null) this.onOverwrite(old);
    return pos & this.mask;
  }

  /** Drops the head entry's references (its strings and slab) so they can be collected. */
  clearSlot(slot: number): void {
    this.ids[slot] = undefined;
    this.assets[slot] = undefined;
    this.ops[slot] = undefined;
    this.slabs[slot] = undefined;
    if (this.loose !== null) this.loose[slot] = undefined;
  }

  private grow(): void {
    const oldMask = this.mask;
    const capacity = (oldMask + 1) * 2;
    const mask = capacity - 1;
    // The live positions as runs contiguous in both the old and the new slots: typed
    // columns move by block copies, so doubling a million-entry ring takes milliseconds.
    const runs: [number, number, number][] = [];
    for (let pos = this.head; pos < this.tail; ) {
      const len = Math.min(this.tail - pos, oldMask + 1 - (pos & oldMask), capacity - (pos & mask));
      runs.push([pos & oldMask, pos & mask, len]);
      pos += len;
    }
    const typed = <A extends Int32Array | Float64Array | Uint32Array | Uint8Array>(old: A, next: A): A => {
      for (const [from, to, len] of runs) next.set(old.subarray(from, from + len), to);
      return next;
    };
    const plain = <T>(old: T[]): T[] => {
      const next = new Array<T>(capacity);
      for (const [from, to, len] of runs) for (let i = 0; i < len; i++) next[to + i] = old[from + i]!;
      return next;
    };
    this.ids = plain(this.ids);
    this.assets = plain(this.assets);
    this.ops = plain(this.ops);
    this.slabs = plain(this.slabs);
    if (this.loose !== null) this.loose = plain(this.loose);
    this.hashes = typed(this.hashes, new Int32Array(capacity));
    this.seqs = typed(this.seqs, new Float64Array(capacity));
    this.tss = typed(this.tss, new Float64Array(capacity));
    this.versions = typed(this.versions, new Float64Array(capacity));
    this.epochs = typed(this.epochs, new Uint32Array(capacity));
    this.oks = typed(this.oks, new Uint8Array(capacity));
    this.packedAt = typed(this.packedAt, new Uint32Array(capacity));
    this.packedMid = typed(this.packedMid, new Uint32Array(capacity));
    this.packedEnd = typed(this.packedEnd, new Uint32Array(capacity));
    this.mask = mask;
  }

  /** The loose column, allocated on first use. */
  looseColumn(): ([Args | undefined, unknown] | undefined)[] {
    return (this.loose ??= new Array<[Args | undefined, unknown] | undefined>(this.mask + 1));
  }

  /** First position in [head, tail) whose seq is above `seq` (seqs ascend). */
  positionAfterSeq(seq: number): number {
    let lo = this.head;
    let hi = this.tail;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (this.seqs[mid & this.mask]! <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
