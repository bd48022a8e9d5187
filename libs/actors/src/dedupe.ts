/**
 * Exactly-once memory (PROTOCOL.md section 3). Every processed request id maps to the
 * entry that rebuilds its original reply. Entries enter at admission (so a retry that
 * races the original waits for it instead of being applied twice), are stamped at the
 * actor's turn, and leave in seq order once they are both beyond the newest
 * `countMin` and older than `retainMs`, or when the hard cap `countMax` is reached.
 * Retention is judged by the records' own timestamps, so the primary, the standby and
 * every replay evict exactly the same ids.
 */
import { msgpackChunk, type MsgReader, MsgWriter, plainEqual, unpackMsgpack, type Args, type UpdateReply, type UpdateRequest } from '@txtest/protocol';
import type { SnapshotDedupe } from './snapshot-walk';
import { AssetStore } from './asset-store';
import { DedupeRing, NUM_SEQ, NUM_TS, NUM_VERSION, PACKED_ARGS, PACKED_AT, PACKED_END, PACKED_MID } from './dedupe-ring';
import { hashAscii, hashId, IdIndex } from './id-index';
import { ownString } from './own-string';

/**
 * One request, as an object: from admission until its reply is released (the gate,
 * the retries waiting for it and the events hold it), and again, rebuilt from the
 * table's columns, when a retry of a remembered id asks for its reply. What the table
 * keeps for long is not this object but a row of DedupeRing's columns.
 *
 * At its turn an entry's args and outcome are packed as MessagePack into a shared slab
 * (`pack`). Replies and events copy the packed outcome bytes as they are, so the outcome
 * is encoded once, not per reader; `replyOf` rebuilds the reply object when asked.
 */
export interface DedupeEntry {
  readonly id: string;
  /** `hashId(id)`, computed once per request. */
  readonly hash: number;
  readonly asset: string;
  /** The asset's row in the asset store; -1 until the table looks it up. */
  readonly assetRow: number;
  readonly op: string;
  /** The request's args until packed (then undefined: see `argsOf`). */
  args: Args | undefined;
  /** 0 until the actor's turn assigns the update its place in the log. */
  seq: number;
  ts: number;
  epoch: number;
  /** The asset's version after the update (unchanged when rejected). */
  version: number;
  ok: boolean;
  /** The model's result when ok, else the refusal's message; undefined once packed (see `outcomeOf`). */
  outcome: unknown;
  /** Retries that arrived before the original's reply was released: sink, index, sink, index, ... */
  waiters: unknown[] | undefined;
  /** The slab holding the packed id (at..args), args (args..mid) and outcome (mid..end); null until packed. */
  packed: Buffer | null;
  packedAt: number;
  packedArgs: number;
  packedMid: number;
  packedEnd: number;
}

export function argsOf(e: DedupeEntry): Args | undefined {
  if (e.packed === null) return e.args;
  return (unpackMsgpack(e.packed.subarray(e.packedArgs, e.packedMid)) ?? undefined) as Args | undefined;
}

export function outcomeOf(e: DedupeEntry): unknown {
  return e.packed === null ? e.outcome : unpackMsgpack(e.packed.subarray(e.packedMid, e.packedEnd));
}

/** Writes the outcome as MessagePack: the packed bytes when there are some. */
function writeOutcome(w: MsgWriter, e: DedupeEntry): void {
  if (e.packed !== null) w.copy(e.packed, e.packedMid, e.packedEnd);
  else w.value(e.outcome);
}

export function replyOf(e: DedupeEntry): UpdateReply {
  const outcome = outcomeOf(e);
  return e.ok
    ? { id: e.id, ok: true, asset: e.asset, version: e.version, seq: e.seq, epoch: e.epoch, result: outcome }
    : { id: e.id, ok: false, error: { code: 'REJECTED', message: outcome as string }, asset: e.asset, version: e.version, seq: e.seq, epoch: e.epoch };
}

// The constant runs of replies and events, between the values (see msgpackChunk).
const REPLY_HEAD = msgpackChunk((w) => {
  w.mapHeader(7);
  w.str('id');
});
const OK_RESULT = msgpackChunk((w) => {
  w.str('ok');
  w.bool(true);
  w.str('result');
});
const REJECTED_MESSAGE = msgpackChunk((w) => {
  w.str('ok');
  w.bool(false);
  w.str('error');
  w.mapHeader(2);
  w.str('code');
  w.str('REJECTED');
  w.str('message');
});
const EVENT_HEAD = msgpackChunk((w) => w.mapHeader(6));
const KEY_ASSET = msgpackChunk((w) => w.str('asset'));
const KEY_VERSION = msgpackChunk((w) => w.str('version'));
const KEY_SEQ = msgpackChunk((w) => w.str('seq'));
const KEY_EPOCH = msgpackChunk((w) => w.str('epoch'));
const KEY_OP = msgpackChunk((w) => w.str('op'));
const KEY_RESULT = msgpackChunk((w) => w.str('result'));

/** Writes an entry's reply (PROTOCOL.md section 3) without building the reply object. */
export function writeReplyOf(w: MsgWriter, e: DedupeEntry): void {
  w.raw(REPLY_HEAD);
  w.str(e.id);
  w.raw(e.ok ? OK_RESULT : REJECTED_MESSAGE);
  writeOutcome(w, e);
  writePosition(w, e);
}

/** The four fields that place an update: asset, version, seq, epoch (replies and events both carry them). */
function writePosition(w: MsgWriter, e: DedupeEntry): void {
  w.raw(KEY_ASSET);
  w.str(e.asset);
  w.raw(KEY_VERSION);
  w.num(e.version);
  w.raw(KEY_SEQ);
  w.num(e.seq);
  w.raw(KEY_EPOCH);
  w.num(e.epoch);
}

/** Writes a committed update's event (PROTOCOL.md section 6): asset, version, seq, epoch, op, result. */
export function writeEventOf(w: MsgWriter, e: DedupeEntry): void {
  w.raw(EVENT_HEAD);
  writePosition(w, e);
  w.raw(KEY_OP);
  w.str(e.op);
  w.raw(KEY_RESULT);
  writeOutcome(w, e);
}

/** Ops are few per model; sharing one string per op name keeps entries from each holding a decoded copy. */
const opNames = new Map<string, string>();
function internOp(op: string): string {
  const known = opNames.get(op);
  if (known !== undefined) return known;
  if (opNames.size < 4096) opNames.set(op, op);
  return op;
}

export interface DedupeLimits {
  countMin: number;
  retainMs: number;
  countMax: number;
}

export const DEFAULT_DEDUPE_LIMITS: DedupeLimits = { countMin: 1_000_000, retainMs: 600_000, countMax: 5_000_000 };

function blankEntry(id: string, hash: number, asset: string, assetRow: number, op: string, args: Args | undefined): DedupeEntry {
  return {
    id,
    hash,
    asset,
    assetRow,
    op,
    args,
    seq: 0,
    ts: 0,
    epoch: 0,
    version: 0,
    ok: false,
    outcome: undefined,
    waiters: undefined,
    packed: null,
    packedAt: 0,
    packedArgs: 0,
    packedMid: 0,
    packedEnd: 0,
  };
}

export class DedupeTable {
  /** Admitted entries until their reply is released (bounded by the updates in flight). */
  private readonly live = new Map<string, DedupeEntry>();
  /** Of those, the ones without a turn yet (not in the ring). */
  private unstamped = 0;
  /** Turned entries, oldest seq first, as columns. */
  private ring = DedupeTable.newRing(this);
  private readonly byId = new IdIndex(
    (pos, id) => this.ring.idIs(this.ring.slot(pos), id),
    (pos, other) => this.ring.sameId(this.ring.slot(pos), this.ring.slot(other)),
    () => this.ring.head,
  );
  /** Writes packed args and outcomes; its slabs are freed once no row points into them. */
  private readonly packer = new MsgWriter();
  /**
   * While true, inserted entries keep their objects: recovery (a log replay, a snapshot
   * load) is a pause the node's start or catch-up waits for, and packing would lengthen
   * it; `packSome` packs them afterwards, a slice at a time.
   */
  packLater = false;
  /** Positions from here to the tail may hold rows inserted unpacked. */
  private packCursor = 0;
  /** The row `loadRows` is filling, reused (push reads an entry). */
  private readonly scratch: { -readonly [K in keyof DedupeEntry]: DedupeEntry[K] } = blankEntry('', 0, '', -1, '', undefined);
  /** Snapshots reading rows: each keeps the rows it has not read before they are overwritten. */
  private readonly readers: DedupeRows[] = [];

  /**
   * `assets` names the rows the ring keeps instead of asset id strings: the processor's
   * store, or (a table on its own, in tests) one of the table's own.
   */
  constructor(
    private readonly limits: DedupeLimits = DEFAULT_DEDUPE_LIMITS,
    private readonly assets = new AssetStore(),
  ) {}

  private static newRing(t: DedupeTable): DedupeRing {
    const ring = new DedupeRing();
    ring.onOverwrite = (pos) => {
      if (t.readers.length !== 0) for (const r of t.readers) r.keep(pos);
    };
    return ring;
  }

  get size(): number {
    return this.byId.size + this.unstamped;
  }

  /** `hash` is `hashId(id)`; pass it when the caller will admit the same id next. */
  get(id: string, hash = hashId(id)): DedupeEntry | undefined {
    if (this.live.size !== 0) {
      const e = this.live.get(id);
      if (e !== undefined) return e;
    }
    const pos = this.byId.find(id, hash);
    return pos < 0 ? undefined : this.entryAt(pos);
  }

  /** Whether a retry is the same request as the one remembered (model is checked by the caller). */
  static sameRequest(e: DedupeEntry, req: UpdateRequest): boolean {
    return e.asset === req.asset && e.op === req.op && plainEqual(argsOf(e) ?? null, req.args ?? null);
  }

  /**
   * A new entry for a request, `assetRow` its asset's row when known. The id and asset
   * strings live only while the request is in flight (the ring keeps the id's bytes and
   * the row), so they may stay views into the message they came in.
   */
  static entry(id: string, asset: string, op: string, args: Args | undefined, hash = hashId(id), assetRow = -1): DedupeEntry {
    return blankEntry(id, hash, asset, assetRow, internOp(op), args);
  }

  admit(req: UpdateRequest, assetRow = -1, hash = hashId(req.id)): DedupeEntry {
    const e = DedupeTable.entry(req.id, req.asset, req.op, req.args, hash, assetRow);
    this.live.set(e.id, e);
    this.unstamped++;
    return e;
  }

  /** Records the turn of an admitted entry: it joins the ring (and stays live until `settle`). */
  stamp(e: DedupeEntry, seq: number, ts: number): void {
    e.seq = seq;
    e.ts = ts;
    this.pack(e);
    if (this.live.get(e.id) === e) this.unstamped--;
    this.push(e);
  }

  /** Inserts an entry learnt from the log, a snapshot or the primary (never admitted here). */
  insert(e: DedupeEntry, seq: number, ts: number): void {
    e.seq = seq;
    e.ts = ts;
    if (!this.packLater) this.pack(e);
    this.push(e);
  }

  /**
   * Inserts `n` snapshot rows ([id, asset, op, args, seq, ts, epoch, version, ok,
   * outcome], see snapshot-codec.ts) read straight from their MessagePack: the id, args
   * and outcome bytes are copied into the slab as they are, the asset is found by its
   * bytes, and no string or object is made per row. Decoding five million rows into
   * values and packing them again took 20 s at a million accounts; a node restarted
   * under load spent a minute on it.
   */
  loadRows(r: MsgReader, n: number): void {
    const buf = r.bytes as Buffer;
    const e = this.scratch;
    const w = this.packer;
    let opFrom = 0;
    let opTo = 0;
    e.op = '';
    for (let i = 0; i < n; i++) {
      if (r.arrayHeader() !== 10) throw new TypeError('a remembered request is not a 10-field row');
      const idAt = r.pos;
      const idFrom = r.skipStr();
      const idTo = r.pos;
      const assetFrom = r.skipStr();
      e.assetRow = this.assets.internBytes(buf, assetFrom, r.pos);
      const from = r.skipStr();
      if (!bytesEqual(buf, from, r.pos, opFrom, opTo)) e.op = internOp(buf.toString('utf8', from, r.pos));
      opFrom = from;
      opTo = r.pos;
      const argsAt = r.pos;
      r.skip();
      const argsTo = r.pos;
      e.seq = r.num();
      e.ts = r.num();
      e.epoch = r.num();
      e.version = r.num();
      e.ok = r.bool();
      const outcomeAt = r.pos;
      r.skip();
      w.copy(buf, idAt, idTo);
      const args = w.pendingLength;
      w.copy(buf, argsAt, argsTo);
      const mid = w.pendingLength;
      w.copy(buf, outcomeAt, r.pos);
      this.placePacked(e, args, mid);
      e.hash = hashAscii(buf, idFrom, idTo) || hashId(buf.toString('utf8', idFrom, idTo));
      this.push(e);
    }
    e.packed = null;
  }

  /** The entry's reply was released: from now on the ring's row answers for it. */
  settle(e: DedupeEntry): void {
    if (this.live.get(e.id) === e) this.live.delete(e.id);
  }

  /** Forgets an admitted entry that never got a turn (its request was dropped). */
  forget(e: DedupeEntry): void {
    if (e.seq !== 0 || this.live.get(e.id) !== e) return;
    this.live.delete(e.id);
    this.unstamped--;
  }

  /** Packs up to `max` of the entries a recovery left unpacked; whether some remain. */
  packSome(max: number): boolean {
    const ring = this.ring;
    const loose = ring.loose;
    if (loose === null) return false;
    if (this.packCursor < ring.head) this.packCursor = ring.head;
    for (let n = 0; this.packCursor < ring.tail && n < max; this.packCursor++) {
      const slot = ring.slot(this.packCursor);
      const l = loose.get(slot);
      if (l === undefined) continue;
      this.packInto(slot, l[0], l[1], l[2]);
      loose.set(slot, undefined);
      n++;
    }
    return this.packCursor < ring.tail;
  }

  /** Moves a turned entry's id, args and outcome into the slab (see DedupeEntry). */
  private pack(e: DedupeEntry): void {
    if (e.packed !== null) return;
    const w = this.packer;
    w.str(e.id);
    const args = w.pendingLength;
    w.value(e.args);
    const mid = w.pendingLength;
    w.value(e.outcome);
    this.placePacked(e, args, mid);
    e.args = undefined;
    e.outcome = undefined;
  }

  /**
   * Takes what the packer holds since its last take (id, then args from `args`, then the
   * outcome from `mid`, offsets relative to the take) as the entry's packed bytes.
   */
  private placePacked(e: DedupeEntry, args: number, mid: number): void {
    const w = this.packer;
    const end = w.pendingLength;
    e.packed = w.slab;
    const at = w.takeAt();
    e.packedAt = at;
    e.packedArgs = at + args;
    e.packedMid = at + mid;
    e.packedEnd = at + end;
  }

  /** Packs a row's loose id, args and outcome into the slab. */
  private packInto(slot: number, id: string, args: Args | undefined, outcome: unknown): void {
    const w = this.packer;
    const ring = this.ring;
    w.str(id);
    const argsAt = w.pendingLength;
    w.value(args);
    const mid = w.pendingLength;
    w.value(outcome);
    const end = w.pendingLength;
    ring.slabs.set(slot, w.slab);
    const at = w.takeAt();
    ring.setPacked(slot, at, at + argsAt, at + mid, at + end);
  }

  /** Appends a turned entry as a row, indexes it, and evicts what retention lets go. */
  private push(e: DedupeEntry): void {
    const ring = this.ring;
    const pos = ring.tail;
    const slot = ring.claim();
    ring.setAsset(slot, e.assetRow >= 0 ? e.assetRow : this.assets.intern(e.asset));
    ring.ops.set(slot, e.op);
    ring.setNumbers(slot, e);
    ring.slabs.set(slot, e.packed);
    ring.setPacked(slot, e.packedAt, e.packedArgs, e.packedMid, e.packedEnd);
    // A loose row outlives the message (a snapshot or log chunk) its id came in: own copy.
    if (e.packed === null) ring.looseColumn().set(slot, [ownString(e.id), e.args, e.outcome]);
    else if (ring.loose !== null) ring.loose.set(slot, undefined);
    // A replayed id that is already known (a snapshot may overlap the log's first records) moves to the newer row.
    if (e.packed === null) this.byId.set(e.id, e.hash, pos);
    else this.byId.setAt(e.hash, pos);
    this.evict(e.ts);
  }

  private evict(nowTs: number): void {
    const { countMin, retainMs, countMax } = this.limits;
    const ring = this.ring;
    for (;;) {
      const n = ring.length;
      if (n <= countMin) return;
      const slot = ring.slot(ring.head);
      if (n <= countMax && ring.num(slot, NUM_TS) > nowTs - retainMs) return;
      this.byId.delete(ring.hash(slot), ring.head);
      // A snapshot still to read this row keeps the slot as it is until it is overwritten.
      if (this.readers.length === 0 || !this.readerNeeds(ring.head)) ring.clearSlot(slot);
      ring.head++;
    }
  }

  private readerNeeds(pos: number): boolean {
    for (const r of this.readers) if (r.needs(pos)) return true;
    return false;
  }

  /** The entry object of a row (a fresh one: a remembered id asked for by a retry, or a test). */
  private entryAt(pos: number): DedupeEntry {
    const ring = this.ring;
    const slot = ring.slot(pos);
    const row = ring.asset(slot);
    const e = blankEntry(ring.idAt(slot), ring.hash(slot), this.assets.name(row), row, ring.ops.get(slot)!, undefined);
    e.seq = ring.num(slot, NUM_SEQ);
    e.ts = ring.num(slot, NUM_TS);
    e.version = ring.num(slot, NUM_VERSION);
    e.epoch = ring.epoch(slot);
    e.ok = ring.ok(slot);
    const slab = ring.slabs.get(slot);
    if (slab === null || slab === undefined) {
      const l = ring.loose?.get(slot);
      e.args = l?.[1];
      e.outcome = l?.[2];
    } else {
      e.packed = slab;
      e.packedAt = ring.packed(slot, PACKED_AT);
      e.packedArgs = ring.packed(slot, PACKED_ARGS);
      e.packedMid = ring.packed(slot, PACKED_MID);
      e.packedEnd = ring.packed(slot, PACKED_END);
    }
    return e;
  }

  /** A snapshot row of the entry at `pos`. */
  rowAt(pos: number): SnapshotDedupe {
    const e = this.entryAt(pos);
    return [e.id, e.asset, e.op, argsOf(e) ?? null, e.seq, e.ts, e.epoch, e.version, e.ok, outcomeOf(e)];
  }

  /**
   * The same row written as MessagePack: a packed row's id, args and outcome are copied
   * as they are, and its asset id from the asset store's page, so a snapshot of a
   * million ids decodes and allocates nothing per row.
   */
  packRowAt(pos: number, w: MsgWriter): void {
    const ring = this.ring;
    const slot = ring.slot(pos);
    const slab = ring.slabs.get(slot);
    if (slab === null || slab === undefined) return w.value(this.rowAt(pos));
    w.arrayHeader(10);
    w.copy(slab, ring.packed(slot, PACKED_AT), ring.packed(slot, PACKED_ARGS));
    this.assets.packName(ring.asset(slot), w);
    w.str(ring.ops.get(slot)!);
    w.copy(slab, ring.packed(slot, PACKED_ARGS), ring.packed(slot, PACKED_MID));
    w.num(ring.num(slot, NUM_SEQ));
    w.num(ring.num(slot, NUM_TS));
    w.num(ring.epoch(slot));
    w.num(ring.num(slot, NUM_VERSION));
    w.bool(ring.ok(slot));
    w.copy(slab, ring.packed(slot, PACKED_MID), ring.packed(slot, PACKED_END));
  }

  /**
   * The rows with seq <= upTo as they are now, to be read a slice at a time while the
   * table moves on (rows evicted or overwritten meanwhile are kept for the reader).
   */
  rowsUpTo(upTo: number): DedupeRows {
    const r = new DedupeRows(this, this.ring.head, this.ring.positionAfterSeq(upTo), (x) => this.readers.splice(this.readers.indexOf(x), 1));
    this.readers.push(r);
    return r;
  }

  /** Forgets every entry; `expected` sizes the index for the entries about to be loaded. */
  clear(expected = 0): void {
    for (const r of [...this.readers]) r.end();
    this.live.clear();
    this.unstamped = 0;
    this.byId.clear(Math.min(expected, this.limits.countMax));
    // A fresh ring (the old one is garbage as a whole): no pass over a million rows.
    this.ring = DedupeTable.newRing(this);
    this.packCursor = 0;
  }
}

/** A snapshot's share of the table: positions [from, end), read in order (see DedupeTable.rowsUpTo). */
export class DedupeRows {
  /** Rows in all, read or not. */
  readonly count: number;
  private next: number;
  private readonly kept = new Map<number, SnapshotDedupe>();
  private done = false;

  constructor(
    private readonly table: DedupeTable,
    from: number,
    private readonly end_: number,
    private readonly onEnd: (r: DedupeRows) => void,
  ) {
    this.next = from;
    this.count = end_ - from;
  }

  /** Whether the row at `pos` is still to be read. */
  needs(pos: number): boolean {
    return pos >= this.next && pos < this.end_;
  }

  /** Called before the slot of `pos` is reused. */
  keep(pos: number): void {
    if (this.needs(pos)) this.kept.set(pos, this.table.rowAt(pos));
  }

  /** Up to `max` more rows; empty once all are read (which ends the reader). */
  take(max: number): SnapshotDedupe[] {
    const out: SnapshotDedupe[] = [];
    while (!this.done && out.length < max && this.next < this.end_) {
      const pos = this.next;
      const kept = this.kept.get(pos);
      if (kept !== undefined) this.kept.delete(pos);
      out.push(kept ?? this.table.rowAt(pos));
      this.next++;
    }
    if (this.next >= this.end_) this.end();
    return out;
  }

  /** Like `take`, written into `w` as a MessagePack array of rows; returns how many. */
  packNext(max: number, w: MsgWriter): number {
    const n = this.done ? 0 : Math.min(max, this.end_ - this.next);
    w.arrayHeader(n);
    for (let i = 0; i < n; i++, this.next++) {
      const kept = this.kept.get(this.next);
      if (kept === undefined) this.table.packRowAt(this.next, w);
      else {
        this.kept.delete(this.next);
        w.value(kept);
      }
    }
    if (this.next >= this.end_) this.end();
    return n;
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    this.kept.clear();
    this.onEnd(this);
  }
}

/** Whether buf[a, aTo) and buf[b, bTo) hold the same bytes. */
function bytesEqual(buf: Uint8Array, a: number, aTo: number, b: number, bTo: number): boolean {
  if (aTo - a !== bTo - b) return false;
  for (let i = 0; a + i < aTo; i++) if (buf[a + i] !== buf[b + i]) return false;
  return true;
}
