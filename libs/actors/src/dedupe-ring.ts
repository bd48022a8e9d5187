/**
 * The remembered requests, oldest first, as columns: typed arrays for the number fields
 * and plain arrays for the string fields (in pages, ring-column.ts), indexed by ring slot
 * (absolute position masked by the capacity). A million remembered ids are then a few
 * large arrays instead of a million entry objects the garbage collector has to visit
 * and move on every full collection (docs/ARCHITECTURE.md, "Memory layout"). The id,
 * args and outcome of a row are MessagePack in shared slabs (MsgWriter), placed by
 * offsets: id at..args, args args..mid, outcome mid..end. The id is not kept as a string:
 * a million of them were 48 bytes each on the heap (header, characters, reference); nor
 * is the asset's id, only its row in the asset store (asset-store.ts).
 *
 * Entries leave at the head in order; positions are absolute and never reused, so an
 * index or a snapshot walk can hold one while the ring moves on. A slot is reused once
 * the position `capacity` later is pushed; whoever still needs the old row (a snapshot
 * walk) must take it before (`onOverwrite`).
 */
import { unpackMsgpack, type Args } from '@txtest/protocol';
import { F64Rows, RefColumn, U32Rows, type RingColumn } from './ring-column';

const CAPACITY_MIN = 64;

/** The fields of a row's `nums`. */
export const NUM_SEQ = 0;
export const NUM_TS = 1;
export const NUM_VERSION = 2;
const NUM_WIDTH = 3;
type NumField = typeof NUM_SEQ | typeof NUM_TS | typeof NUM_VERSION;
/**
 * The fields of a row's `ints`: the id's hash (as u32), epoch * 2 + ok, the packed
 * offsets, the asset's row in the asset store.
 */
const INT_HASH = 0;
const INT_EPOCH_OK = 1;
export const PACKED_AT = 2;
export const PACKED_ARGS = 3;
export const PACKED_MID = 4;
export const PACKED_END = 5;
const INT_ASSET = 6;
const INT_WIDTH = 7;
type PackedField = typeof PACKED_AT | typeof PACKED_ARGS | typeof PACKED_MID | typeof PACKED_END;

/** The number fields of a row. */
export interface RowNumbers {
  hash: number;
  seq: number;
  ts: number;
  version: number;
  epoch: number;
  ok: boolean;
}

/** A row inserted unpacked: its id, args and outcome as objects, until `packSome` packs them. */
export type LooseRow = [id: string, args: Args | undefined, outcome: unknown];

export class DedupeRing {
  /** Position of the oldest entry; `tail` is where the next one goes. */
  head = 0;
  tail = 0;
  private mask = CAPACITY_MIN - 1;
  ops = new RefColumn<string>(CAPACITY_MIN);
  /** The slab of a packed entry (id at..args, args args..mid, outcome mid..end); null while unpacked. */
  slabs = new RefColumn<Buffer | null>(CAPACITY_MIN);
  /** seq, ts, version of each row (NUM_*). */
  nums = new F64Rows(CAPACITY_MIN, NUM_WIDTH);
  /** hash, epoch x 2 + ok, and the packed offsets of each row (INT_*). */
  ints = new U32Rows(CAPACITY_MIN, INT_WIDTH);
  /** [id, args, outcome] of entries inserted unpacked (a recovery's), by slot; allocated on first use. */
  loose: RingColumn<LooseRow | undefined> | null = null;

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
    this.ops.set(slot, undefined);
    this.slabs.set(slot, undefined);
    if (this.loose !== null) this.loose.set(slot, undefined);
  }

  /** Doubles the capacity; the columns move pages, not entries (ring-column.ts). */
  private grow(): void {
    const oldCapacity = this.mask + 1;
    if (this.tail - this.head !== oldCapacity) throw new Error('DedupeRing.grow: the ring is not full');
    for (const c of [this.ops, this.slabs, this.loose, this.nums, this.ints]) c?.grow(this.head, oldCapacity);
    this.mask = oldCapacity * 2 - 1;
  }

  /** The loose column, allocated on first use. */
  looseColumn(): RingColumn<LooseRow | undefined> {
    return (this.loose ??= new RefColumn<LooseRow>(this.mask + 1));
  }

  /** Writes the number fields of the row in `slot`, one page lookup per kind. */
  setNumbers(slot: number, r: RowNumbers): void {
    const n = this.nums.page(slot);
    const a = this.nums.offset(slot);
    n[a + NUM_SEQ] = r.seq;
    n[a + NUM_TS] = r.ts;
    n[a + NUM_VERSION] = r.version;
    const i = this.ints.page(slot);
    const b = this.ints.offset(slot);
    i[b + INT_HASH] = r.hash >>> 0;
    i[b + INT_EPOCH_OK] = r.epoch * 2 + (r.ok ? 1 : 0);
  }

  /** Where the row's id, args and outcome lie in its slab (id at..args, args args..mid, outcome mid..end). */
  setPacked(slot: number, at: number, args: number, mid: number, end: number): void {
    const i = this.ints.page(slot);
    const b = this.ints.offset(slot);
    i[b + PACKED_AT] = at;
    i[b + PACKED_ARGS] = args;
    i[b + PACKED_MID] = mid;
    i[b + PACKED_END] = end;
  }

  setAsset(slot: number, row: number): void {
    this.ints.page(slot)[this.ints.offset(slot) + INT_ASSET] = row;
  }

  /** The row of the asset in the asset store. */
  asset(slot: number): number {
    return this.ints.get(slot, INT_ASSET);
  }

  hash(slot: number): number {
    return this.ints.get(slot, INT_HASH) | 0;
  }

  /** One of the row's number fields: `NUM_SEQ`, `NUM_TS` or `NUM_VERSION`. */
  num(slot: number, field: NumField): number {
    return this.nums.get(slot, field);
  }

  epoch(slot: number): number {
    return this.ints.get(slot, INT_EPOCH_OK) >>> 1;
  }

  ok(slot: number): boolean {
    return (this.ints.get(slot, INT_EPOCH_OK) & 1) === 1;
  }

  /** One of the row's packed offsets in its slab: `PACKED_AT`, `PACKED_ARGS`, `PACKED_MID` or `PACKED_END`. */
  packed(slot: number, field: PackedField): number {
    return this.ints.get(slot, field);
  }

  /** The id of the row in `slot` (decoded from its slab when packed: a retry's reply, a snapshot). */
  idAt(slot: number): string {
    const slab = this.slabs.get(slot);
    if (slab === null || slab === undefined) return this.loose!.get(slot)![0];
    return unpackMsgpack(slab.subarray(this.packed(slot, PACKED_AT), this.packed(slot, PACKED_ARGS))) as string;
  }

  /** Whether the row in `slot` has the id `id`, without decoding it (the index's hash matches). */
  idIs(slot: number, id: string): boolean {
    const slab = this.slabs.get(slot);
    if (slab === null || slab === undefined) return this.loose!.get(slot)![0] === id;
    return packedStrEquals(slab, this.packed(slot, PACKED_AT), this.packed(slot, PACKED_ARGS), id);
  }

  /** Whether the rows in two slots have the same id (compared as bytes when both are packed). */
  sameId(a: number, b: number): boolean {
    const sa = this.slabs.get(a);
    const sb = this.slabs.get(b);
    if (sa === null || sa === undefined || sb === null || sb === undefined) return this.idAt(a) === this.idAt(b);
    const pa = strPayload(sa, this.packed(a, PACKED_AT));
    const pb = strPayload(sb, this.packed(b, PACKED_AT));
    const n = this.packed(a, PACKED_ARGS) - pa;
    if (n !== this.packed(b, PACKED_ARGS) - pb) return false;
    for (let i = 0; i < n; i++) if (sa[pa + i] !== sb[pb + i]) return false;
    return true;
  }

  /** First position in [head, tail) whose seq is above `seq` (seqs ascend). */
  positionAfterSeq(seq: number): number {
    let lo = this.head;
    let hi = this.tail;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (this.num(mid & this.mask, NUM_SEQ) <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Whether the MessagePack str in buf[from, to) is `s`. */
export function packedStrEquals(buf: Buffer, from: number, to: number, s: string): boolean {
  const p = strPayload(buf, from);
  const n = to - p;
  // A non-ASCII character takes more UTF-8 bytes than UTF-16 units, so equal lengths
  // mean `s` must be ASCII for the two to match, and byte equals unit throughout.
  if (n !== s.length) return n > s.length && buf.toString('utf8', p, to) === s;
  for (let i = 0; i < n; i++) if (buf[p + i] !== s.charCodeAt(i)) return false;
  return true;
}

/** Where the UTF-8 bytes of the MessagePack str at buf[from] begin (past its header). */
function strPayload(buf: Buffer, from: number): number {
  const b = buf[from]!;
  return from + ((b & 0xe0) === 0xa0 ? 1 : b === 0xd9 ? 2 : b === 0xda ? 3 : 5);
}
