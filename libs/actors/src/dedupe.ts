/**
 * Exactly-once memory (PROTOCOL.md section 3). Every processed request id maps to the
 * entry that rebuilds its original reply. Entries enter at admission (so a retry that
 * races the original waits for it instead of being applied twice), are stamped at the
 * actor's turn, and leave in seq order once they are both beyond the newest
 * `countMin` and older than `retainMs`, or when the hard cap `countMax` is reached.
 * Retention is judged by the records' own timestamps, so the primary, the standby and
 * every replay evict exactly the same ids.
 */
import { plainEqual, type Args, type MsgWriter, type UpdateReply, type UpdateRequest } from '@txtest/protocol';
import { Fifo } from './fifo';

/**
 * One remembered request. It holds the reply's fields rather than a reply object, and
 * shares the asset id and op strings with the actor and the model, so a million of
 * them stay small; `replyOf` rebuilds the reply when a retry asks for it.
 */
export interface DedupeEntry {
  readonly id: string;
  readonly asset: string;
  readonly op: string;
  readonly args: Args | undefined;
  /** 0 until the actor's turn assigns the update its place in the log. */
  seq: number;
  ts: number;
  epoch: number;
  /** The asset's version after the update (unchanged when rejected). */
  version: number;
  ok: boolean;
  /** The model's result when ok, else the refusal's message. */
  outcome: unknown;
  /** Retries that arrived before the original's reply was released: sink, index, sink, index, ... */
  waiters: unknown[] | undefined;
}

export function replyOf(e: DedupeEntry): UpdateReply {
  return e.ok
    ? { id: e.id, ok: true, asset: e.asset, version: e.version, seq: e.seq, epoch: e.epoch, result: e.outcome }
    : { id: e.id, ok: false, error: { code: 'REJECTED', message: e.outcome as string }, asset: e.asset, version: e.version, seq: e.seq, epoch: e.epoch };
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
    w.value(e.outcome);
  } else {
    w.str('error');
    w.mapHeader(2);
    w.str('code');
    w.str('REJECTED');
    w.str('message');
    w.str(e.outcome as string);
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
  w.value(e.outcome);
}

/**
 * A Map split into 64 by a hash of the key. A million-entry Map doubles its table in
 * one go, which stalls the event loop long enough to miss heartbeats; 64 smaller maps
 * grow a sixty-fourth at a time.
 */
class ShardedMap<V> {
  private readonly shards: Map<string, V>[] = Array.from({ length: 64 }, () => new Map<string, V>());

  /** Ids differ most at the end (counters, sequence numbers): the last three characters and the length pick the shard. */
  private shard(key: string): Map<string, V> {
    const n = key.length;
    const h = n + key.charCodeAt(n - 1) * 7 + (n > 1 ? key.charCodeAt(n - 2) * 31 : 0) + (n > 2 ? key.charCodeAt(n - 3) * 131 : 0);
    return this.shards[h & 63]!;
  }

  get size(): number {
    let n = 0;
    for (const m of this.shards) n += m.size;
    return n;
  }

  get(key: string): V | undefined {
    return this.shard(key).get(key);
  }

  set(key: string, value: V): void {
    this.shard(key).set(key, value);
  }

  delete(key: string): void {
    this.shard(key).delete(key);
  }

  deleteWhere(pred: (v: V) => boolean): void {
    for (const m of this.shards) for (const [k, v] of m) if (pred(v)) m.delete(k);
  }

  clear(): void {
    for (const m of this.shards) m.clear();
  }
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
  private readonly byId = new ShardedMap<DedupeEntry>();
  /** Turned entries, oldest seq first. */
  private readonly order = new Fifo<DedupeEntry>();

  constructor(private readonly limits: DedupeLimits = DEFAULT_DEDUPE_LIMITS) {}

  get size(): number {
    return this.byId.size;
  }

  get(id: string): DedupeEntry | undefined {
    return this.byId.get(id);
  }

  /** Whether a retry is the same request as the one remembered (model is checked by the caller). */
  static sameRequest(e: DedupeEntry, req: UpdateRequest): boolean {
    return e.asset === req.asset && e.op === req.op && plainEqual(e.args ?? null, req.args ?? null);
  }

  /** A new entry for a request; `asset` should be the actor's own id string (shared). */
  static entry(id: string, asset: string, op: string, args: Args | undefined): DedupeEntry {
    return { id, asset, op: internOp(op), args, seq: 0, ts: 0, epoch: 0, version: 0, ok: false, outcome: undefined, waiters: undefined };
  }

  admit(req: UpdateRequest, asset: string): DedupeEntry {
    const e = DedupeTable.entry(req.id, asset, req.op, req.args);
    this.byId.set(req.id, e);
    return e;
  }

  /** Records the turn of an admitted entry, or inserts one learnt from the log, a snapshot or the primary. */
  stamp(e: DedupeEntry, seq: number, ts: number): void {
    e.seq = seq;
    e.ts = ts;
    if (this.byId.get(e.id) !== e) this.byId.set(e.id, e);
    this.order.push(e);
    this.evict(ts);
  }

  /** Inserts an entry learnt from the log, a snapshot or the primary (never admitted here). */
  insert(e: DedupeEntry, seq: number, ts: number): void {
    e.seq = seq;
    e.ts = ts;
    this.byId.set(e.id, e);
    this.order.push(e);
    this.evict(ts);
  }

  /** Forgets an admitted entry that never got a turn (its request was dropped). */
  forget(e: DedupeEntry): void {
    if (e.seq === 0 && this.byId.get(e.id) === e) this.byId.delete(e.id);
  }

  /** Forgets every admitted entry that never got a turn (on losing the primary role). */
  forgetUnturned(): void {
    this.byId.deleteWhere((e) => e.seq === 0);
  }

  private evict(nowTs: number): void {
    const { countMin, retainMs, countMax } = this.limits;
    for (;;) {
      const n = this.order.length;
      if (n <= countMin) return;
      const oldest = this.order.peek()!;
      if (n <= countMax && oldest.ts > nowTs - retainMs) return;
      this.order.shift();
      if (this.byId.get(oldest.id) === oldest) this.byId.delete(oldest.id);
    }
  }

  /** Turned entries with seq <= upTo, oldest first: the snapshot's share of the table. */
  entriesUpTo(upTo: number): DedupeEntry[] {
    const out: DedupeEntry[] = [];
    for (let i = 0; i < this.order.length; i++) {
      const e = this.order.at(i)!;
      if (e.seq > upTo) break;
      out.push(e);
    }
    return out;
  }

  clear(): void {
    this.byId.clear();
    this.order.clear();
  }
}
