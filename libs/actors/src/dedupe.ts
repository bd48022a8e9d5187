/**
 * Exactly-once memory (PROTOCOL.md section 3). Every processed request id maps to the
 * entry that rebuilds its original reply. Entries enter at admission (so a retry that
 * races the original waits for it instead of being applied twice), are stamped at the
 * actor's turn, and leave in seq order once they are both beyond the newest
 * `countMin` and older than `retainMs`, or when the hard cap `countMax` is reached.
 * Retention is judged by the records' own timestamps, so the primary, the standby and
 * every replay evict exactly the same ids.
 */
import { MsgWriter, plainEqual, unpackMsgpack, type Args, type UpdateReply, type UpdateRequest } from '@txtest/protocol';
import { Fifo } from './fifo';
import { hashId, IdIndex } from './id-index';
import { ownString } from './own-string';

/**
 * One remembered request. It holds the reply's fields rather than a reply object, and
 * shares the asset id and op strings with the actor and the model, so a million of
 * them stay small; `replyOf` rebuilds the reply when a retry asks for it.
 *
 * Once its turn has run, an entry's args and outcome are packed as MessagePack into a
 * shared slab (`pack`), and the objects are dropped: a million retained entries are then
 * two small heap objects each (the entry and its id) instead of five or more, which is
 * what the garbage collector pays for on every full mark. Replies and events copy the
 * packed outcome bytes as they are, so the outcome is encoded once, not per reader.
 */
export interface DedupeEntry {
  readonly id: string;
  /** `hashId(id)`, computed once per request. */
  readonly hash: number;
  readonly asset: string;
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
  /** The slab holding the packed args (at..mid) and outcome (mid..end); null until packed. */
  packed: Buffer | null;
  packedAt: number;
  packedMid: number;
  packedEnd: number;
}

export function argsOf(e: DedupeEntry): Args | undefined {
  if (e.packed === null) return e.args;
  return (unpackMsgpack(e.packed.subarray(e.packedAt, e.packedMid)) ?? undefined) as Args | undefined;
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

/** Writes an entry's reply (PROTOCOL.md section 3) without building the reply object. */
export function writeReplyOf(w: MsgWriter, e: DedupeEntry): void {
  w.mapHeader(7);
  w.str('id');
  w.str(e.id);
  w.str('ok');
  w.bool(e.ok);
  if (e.ok) {
    w.str('result');
    writeOutcome(w, e);
  } else {
    w.str('error');
    w.mapHeader(2);
    w.str('code');
    w.str('REJECTED');
    w.str('message');
    writeOutcome(w, e);
  }
  writePosition(w, e);
}

/** The four fields that place an update: asset, version, seq, epoch (replies and events both carry them). */
function writePosition(w: MsgWriter, e: DedupeEntry): void {
  w.str('asset');
  w.str(e.asset);
  w.str('version');
  w.num(e.version);
  w.str('seq');
  w.num(e.seq);
  w.str('epoch');
  w.num(e.epoch);
}

/** Writes the event of a committed, accepted update (PROTOCOL.md section 6). */
export function writeEventOf(w: MsgWriter, e: DedupeEntry): void {
  w.mapHeader(6);
  writePosition(w, e);
  w.str('op');
  w.str(e.op);
  w.str('result');
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

export class DedupeTable {
  private readonly byId = new IdIndex<DedupeEntry>();
  /** Turned entries, oldest seq first. */
  private readonly order = new Fifo<DedupeEntry>();
  /** Writes packed args and outcomes; its slabs are freed once no entry points into them. */
  private readonly packer = new MsgWriter();
  /**
   * While true, inserted entries keep their objects: recovery (a log replay, a snapshot
   * load) is a pause the node's start or catch-up waits for, and packing would lengthen
   * it; `packSome` packs them afterwards, a slice at a time.
   */
  packLater = false;
  /** `order` indexes [packCursor, packUntil) may hold entries inserted unpacked. */
  private packCursor = 0;
  private packUntil = 0;

  constructor(private readonly limits: DedupeLimits = DEFAULT_DEDUPE_LIMITS) {}

  get size(): number {
    return this.byId.size;
  }

  /** `hash` is `hashId(id)`; pass it when the caller will admit the same id next. */
  get(id: string, hash = hashId(id)): DedupeEntry | undefined {
    return this.byId.get(id, hash);
  }

  /** Whether a retry is the same request as the one remembered (model is checked by the caller). */
  static sameRequest(e: DedupeEntry, req: UpdateRequest): boolean {
    return e.asset === req.asset && e.op === req.op && plainEqual(argsOf(e) ?? null, req.args ?? null);
  }

  /** A new entry for a request; `asset` should be the actor's own id string (shared). */
  static entry(id: string, asset: string, op: string, args: Args | undefined, hash = hashId(id)): DedupeEntry {
    // The id outlives the message it came in: own copy (see ownString).
    return { id: ownString(id), hash, asset, op: internOp(op), args, seq: 0, ts: 0, epoch: 0, version: 0, ok: false, outcome: undefined, waiters: undefined, packed: null, packedAt: 0, packedMid: 0, packedEnd: 0 };
  }

  admit(req: UpdateRequest, asset: string, hash = hashId(req.id)): DedupeEntry {
    const e = DedupeTable.entry(req.id, asset, req.op, req.args, hash);
    this.byId.set(e);
    return e;
  }

  /** Records the turn of an admitted entry, or inserts one learnt from the log, a snapshot or the primary. */
  stamp(e: DedupeEntry, seq: number, ts: number): void {
    e.seq = seq;
    e.ts = ts;
    this.pack(e);
    if (this.byId.get(e.id, e.hash) !== e) this.byId.set(e);
    this.order.push(e);
    this.evict(ts);
  }

  /** Inserts an entry learnt from the log, a snapshot or the primary (never admitted here). */
  insert(e: DedupeEntry, seq: number, ts: number): void {
    e.seq = seq;
    e.ts = ts;
    if (!this.packLater) this.pack(e);
    this.byId.set(e);
    this.order.push(e);
    if (this.packLater) this.packUntil = this.order.length;
    this.evict(ts);
  }

  /** Forgets an admitted entry that never got a turn (its request was dropped). */
  forget(e: DedupeEntry): void {
    if (e.seq === 0) this.byId.delete(e);
  }


  /** Packs up to `max` of the entries a recovery left unpacked; whether some remain. */
  packSome(max: number): boolean {
    const order = this.order;
    for (let n = 0; this.packCursor < this.packUntil && n < max; this.packCursor++) {
      const e = order.at(this.packCursor)!;
      if (e.packed === null) {
        this.pack(e);
        n++;
      }
    }
    return this.packCursor < this.packUntil;
  }

  /** Moves a turned entry's args and outcome into the slab (see DedupeEntry). */
  private pack(e: DedupeEntry): void {
    if (e.packed !== null) return;
    const w = this.packer;
    w.value(e.args);
    const mid = w.pendingLength;
    w.value(e.outcome);
    const end = w.pendingLength;
    e.packed = w.slab;
    const at = w.takeAt();
    e.packedAt = at;
    e.packedMid = at + mid;
    e.packedEnd = at + end;
    e.args = undefined;
    e.outcome = undefined;
  }

  private evict(nowTs: number): void {
    const { countMin, retainMs, countMax } = this.limits;
    for (;;) {
      const n = this.order.length;
      if (n <= countMin) return;
      const oldest = this.order.peek()!;
      if (n <= countMax && oldest.ts > nowTs - retainMs) return;
      this.order.shift();
      if (this.packCursor > 0) this.packCursor--;
      if (this.packUntil > 0) this.packUntil--;
      this.byId.delete(oldest);
    }
  }

  /** Turned entries with seq <= upTo, oldest first: the snapshot's share of the table. */
  entriesUpTo(upTo: number): DedupeEntry[] {
    // `order` is sorted by seq: a binary search finds the end, and one block copy takes
    // the references (a loop pushing a million of them would stall the event loop).
    const order = this.order;
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (order.at(mid)!.seq <= upTo) lo = mid + 1;
      else hi = mid;
    }
    return order.slice(0, lo);
  }

  clear(): void {
    this.byId.clear();
    this.order.clear();
    this.packCursor = 0;
    this.packUntil = 0;
  }
}
