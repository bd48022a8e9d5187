/**
 * Every asset of a node as a row of columns: its id (UTF-8 in byte pages), model,
 * committed state, version and seq, found by id through open addressing over typed
 * arrays (256 shards by the hash's top bits, as the dedupe index, id-index.ts).
 *
 * Why rows and not an object per asset: a full garbage collection marks every live
 * object, and at a million assets an actor object and an id string each were two
 * million objects to visit, scattered over the heap: 230 ms of a mark-compact's pause
 * on this machine, past the 200 ms peer timeout (docs/ARCHITECTURE.md, "Memory layout
 * and stall avoidance"). Here the bytes of a million accounts are a few hundred typed
 * arrays and, for the states, paged plain arrays of small integers. An asset's actor
 * (asset-actor.ts) exists only while updates queue for it or await the gate.
 *
 * Rows are only ever appended (all are dropped at once by `clear`), so a row number is
 * a stable name for an asset: the dedupe ring keeps it instead of the id string.
 * A row may have no model: an id a remembered request names whose asset did not exist
 * when a snapshot was taken (only refused updates so far); it gets one when an update
 * creates the asset.
 */
import type { Model } from '@txtest/models';
import type { MsgWriter } from '@txtest/protocol';
import { hashAscii, hashId } from './id-index';
import { APPEND_ONLY, F64Rows, RefColumn, U32Rows } from './ring-column';

const SHARD_BITS = 8;
const SHARDS = 1 << SHARD_BITS;
const LOAD_MAX = 0.75;
const SHARD_CAPACITY_MIN = 16;

/** Bytes per page of ids; an id never straddles two (ASSET_CHARS_MAX x 3 bytes fits many times). */
const NAME_PAGE_BITS = 18;
const NAME_PAGE = 1 << NAME_PAGE_BITS;

/** Fields of a row's `ints`. */
const INT_NAME_AT = 0;
const INT_NAME_LEN = 1;
const INT_MODEL = 2;
/** Fields of a row's `nums`. */
const NUM_VERSION = 0;
const NUM_SEQ = 1;

/** Bytes in a buffer: an asset id as a snapshot holds it. */
interface ByteSpan {
  buf: Buffer;
  from: number;
  to: number;
}
const EMPTY = Buffer.alloc(0);

/** Model index 0: the row has no model yet (see the module comment). */
const NO_MODEL = 0;

class Shard {
  mask = SHARD_CAPACITY_MIN - 1;
  hashes = new Int32Array(SHARD_CAPACITY_MIN);
  rows = new Int32Array(SHARD_CAPACITY_MIN);
  size = 0;

  find<K>(key: K, h: number, is: (row: number, key: K) => boolean): number {
    const { hashes, rows, mask } = this;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const hi = hashes[i]!;
      if (hi === 0) return -1;
      if (hi === h && is(rows[i]!, key)) return rows[i]!;
    }
  }

  add(row: number, h: number): void {
    if (this.size + 1 > LOAD_MAX * (this.mask + 1)) this.grow();
    this.place(row, h);
    this.size++;
  }

  private place(row: number, h: number): void {
    const { hashes, mask } = this;
    let i = h & mask;
    while (hashes[i] !== 0) i = (i + 1) & mask;
    hashes[i] = h;
    this.rows[i] = row;
  }

  /** Doubles the shard: one shard's rehash at a time, never a million entries in one go. */
  private grow(): void {
    const { hashes, rows } = this;
    const capacity = 2 * (this.mask + 1);
    this.mask = capacity - 1;
    this.hashes = new Int32Array(capacity);
    this.rows = new Int32Array(capacity);
    for (let i = 0; i < hashes.length; i++) if (hashes[i] !== 0) this.place(rows[i]!, hashes[i]!);
  }
}

export class AssetStore {
  private shards: Shard[] = [];
  private names: Buffer[] = [];
  /** Where the next id goes in the last page of `names`. */
  private nameEnd = 0;
  private ints = new U32Rows(APPEND_ONLY, 3);
  private nums = new F64Rows(APPEND_ONLY, 2);
  private states = new RefColumn<unknown>(APPEND_ONLY);
  /** Models by index (index 0: none); a row keeps the index. */
  private readonly models: (Model | undefined)[] = [undefined];
  private readonly modelIndex = new Map<Model, number>();
  private count = 0;
  private modelled = 0;

  constructor() {
    this.clear();
  }

  /** Assets with a model (rows without one are only names; see the module comment). */
  get size(): number {
    return this.modelled;
  }

  /** Rows in all: row numbers are 0 .. rows - 1. */
  get rows(): number {
    return this.count;
  }

  /** The row of `asset`, or -1. */
  find(asset: string): number {
    const h = hashId(asset);
    return this.shards[h >>> (32 - SHARD_BITS)]!.find(asset, h, this.isName);
  }

  /**
   * `intern` of the asset id whose UTF-8 bytes are buf[from, to) (a snapshot's row), found
   * on the bytes: a string is made only for a new row or an id that is not ASCII.
   */
  internBytes(buf: Buffer, from: number, to: number): number {
    const h = hashAscii(buf, from, to);
    if (h === 0) return this.intern(buf.toString('utf8', from, to));
    const span = this.span;
    span.buf = buf;
    span.from = from;
    span.to = to;
    const row = this.shards[h >>> (32 - SHARD_BITS)]!.find(span, h, this.isNameBytes);
    span.buf = EMPTY;
    return row >= 0 ? row : this.add(buf.toString('latin1', from, to), undefined);
  }

  /** The row of `asset`, added without a model when there is none. */
  intern(asset: string): number {
    const row = this.find(asset);
    return row >= 0 ? row : this.add(asset, undefined);
  }

  /**
   * Adds a row (the caller knows `asset` has none): version 0 and seq 0, which readers
   * take for "does not exist yet", in the model's initial state.
   */
  add(asset: string, model: Model | undefined): number {
    const row = this.count++;
    const ints = this.ints.page(row);
    const at = this.ints.offset(row);
    ints[at + INT_NAME_AT] = this.writeName(asset);
    ints[at + INT_NAME_LEN] = Buffer.byteLength(asset, 'utf8');
    const nums = this.nums.page(row);
    const n = this.nums.offset(row);
    nums[n + NUM_VERSION] = 0;
    nums[n + NUM_SEQ] = 0;
    this.states.set(row, undefined);
    this.setModel(row, model);
    const h = hashId(asset);
    this.shards[h >>> (32 - SHARD_BITS)]!.add(row, h);
    return row;
  }

  /** Gives a row its model (a new row, or one that had none), in the model's initial state. */
  setModel(row: number, model: Model | undefined): void {
    if (model === undefined) return;
    let index = this.modelIndex.get(model);
    if (index === undefined) {
      index = this.models.push(model) - 1;
      this.modelIndex.set(model, index);
    }
    this.ints.page(row)[this.ints.offset(row) + INT_MODEL] = index;
    this.states.set(row, model.initial());
    this.modelled++;
  }

  /** The row's model; undefined while it has none. */
  model(row: number): Model | undefined {
    return this.models[this.ints.get(row, INT_MODEL)];
  }

  hasModel(row: number): boolean {
    return this.ints.get(row, INT_MODEL) !== NO_MODEL;
  }

  /** The asset id of a row, as a new string. */
  name(row: number): string {
    const at = this.ints.get(row, INT_NAME_AT);
    const page = this.names[at >>> NAME_PAGE_BITS]!;
    const from = at & (NAME_PAGE - 1);
    return page.toString('utf8', from, from + this.ints.get(row, INT_NAME_LEN));
  }

  /** The asset id of a row as a MessagePack str, copied from its page (no string made). */
  packName(row: number, w: MsgWriter): void {
    const at = this.ints.get(row, INT_NAME_AT);
    const from = at & (NAME_PAGE - 1);
    w.strBytes(this.names[at >>> NAME_PAGE_BITS]!, from, from + this.ints.get(row, INT_NAME_LEN));
  }

  /** Whether the row's id is `s`, without decoding it. */
  nameIs(row: number, s: string): boolean {
    const at = this.ints.get(row, INT_NAME_AT);
    const page = this.names[at >>> NAME_PAGE_BITS]!;
    const from = at & (NAME_PAGE - 1);
    const n = this.ints.get(row, INT_NAME_LEN);
    // More bytes than UTF-16 units: not ASCII, compared decoded (rare); equal counts
    // can only match an ASCII `s`, byte for unit.
    if (n !== s.length) return n > s.length && page.toString('utf8', from, from + n) === s;
    for (let i = 0; i < n; i++) if (page[from + i] !== s.charCodeAt(i)) return false;
    return true;
  }

  private readonly isName = (row: number, s: string) => this.nameIs(row, s);

  /** The key `internBytes` looks up by, reused. */
  private readonly span: ByteSpan = { buf: EMPTY, from: 0, to: 0 };

  private readonly isNameBytes = (row: number, k: ByteSpan): boolean => {
    const at = this.ints.get(row, INT_NAME_AT);
    const page = this.names[at >>> NAME_PAGE_BITS]!;
    const from = at & (NAME_PAGE - 1);
    const n = this.ints.get(row, INT_NAME_LEN);
    if (n !== k.to - k.from) return false;
    for (let i = 0; i < n; i++) if (page[from + i] !== k.buf[k.from + i]) return false;
    return true;
  };

  /** The committed state, version and seq of a row. */
  state(row: number): unknown {
    return this.states.get(row);
  }

  version(row: number): number {
    return this.nums.get(row, NUM_VERSION);
  }

  seq(row: number): number {
    return this.nums.get(row, NUM_SEQ);
  }

  /** Sets the committed view of a row. */
  commit(row: number, state: unknown, version: number, seq: number): void {
    this.states.set(row, state);
    const nums = this.nums.page(row);
    const n = this.nums.offset(row);
    nums[n + NUM_VERSION] = version;
    nums[n + NUM_SEQ] = seq;
  }

  /** Forgets every row: new columns (the old ones are garbage as a whole). */
  clear(): void {
    this.shards = Array.from({ length: SHARDS }, () => new Shard());
    this.names = [];
    this.nameEnd = 0;
    this.ints = new U32Rows(APPEND_ONLY, 3);
    this.nums = new F64Rows(APPEND_ONLY, 2);
    this.states = new RefColumn<unknown>(APPEND_ONLY);
    this.count = 0;
    this.modelled = 0;
  }

  /** Copies `asset` into the id pages; returns where (page << NAME_PAGE_BITS | offset). */
  private writeName(asset: string): number {
    // At most 3 bytes per UTF-16 unit: check room for that, not the exact length.
    if (this.names.length === 0 || this.nameEnd + 3 * asset.length > NAME_PAGE) {
      // An id longer than a page (only a corrupt snapshot could hold one) gets a page of its own.
      this.names.push(Buffer.allocUnsafeSlow(Math.max(NAME_PAGE, 3 * asset.length)));
      this.nameEnd = 0;
    }
    const page = this.names.length - 1;
    const at = this.nameEnd;
    this.nameEnd += this.names[page]!.write(asset, at, 'utf8');
    return page * NAME_PAGE + at;
  }
}
