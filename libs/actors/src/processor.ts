/**
 * The processing path (docs/DECISIONS.md, "The processing path"), for one node:
 *
 *   submit (validated request) -> dedupe check -> asset mailbox (bounded)
 *   turn: seq = lastSeq + 1 -> onRecord(epoch, seq, payload)  (log writer + replication)
 *         -> model.apply (pure) -> pending reply in the gate
 *   release(watermark): replies and events with seq <= watermark leave, in seq order
 *
 * The gate's watermark is fed from outside: the local log's write (or fsync) watermark
 * while the node runs alone, the standby's acknowledged watermark in a pair. Because
 * seqs are assigned in order and the watermark is contiguous, no reply ever reveals an
 * update that the standby (or the log) might not have.
 *
 * Followers (a standby, or a node replaying its log) call `applyRecord` instead: the
 * same models, the same dedupe stamping, so they reach identical states and replies.
 * Everything here is synchronous and single-threaded: an actor's turn runs to the end
 * before anything else, which is what makes one asset's updates atomic.
 */
import {
  decodeRecord,
  errorReply,
  type ErrorReply,
  type MsgReader,
  type QueryReply,
  type UpdateRecord,
  type UpdateReply,
  type UpdateRequest,
} from '@txtest/protocol';
import { stateOf, viewOf, type Model } from '@txtest/models';
import { AssetActor, type Pending, type ReplySink } from './asset-actor';
import { AssetStore } from './asset-store';
import type { Clock, Defer } from './clock';
import { argsOf, DEFAULT_DEDUPE_LIMITS, DedupeTable, outcomeOf, replyOf, type DedupeEntry, type DedupeLimits } from './dedupe';
import { RecordApplyError } from './errors';
import { Fifo } from './fifo';
import { hashId } from './id-index';
import { SnapshotWalk, type SnapshotAsset, type SnapshotDedupe } from './snapshot-walk';
import { StateDigest } from './state-digest';

/** Assets hashed between two pauses of a digest (a few milliseconds of work). */
const DIGEST_SLICE_ASSETS = 2048;

export interface ProcessorLimits {
  /** Updates queued for one asset before it answers OVERLOADED. */
  mailboxMax: number;
  /** Updates admitted but not yet released, node-wide, before OVERLOADED. */
  inflightMax: number;
  /** Updates one actor runs per scheduling round before others get their turn. */
  turnBudget: number;
}

export const DEFAULT_PROCESSOR_LIMITS: ProcessorLimits = { mailboxMax: 10_000, inflightMax: 100_000, turnBudget: 64 };

export interface ProcessorOptions {
  clock: Clock;
  defer: Defer;
  getModel: (name: string) => Model | undefined;
  limits?: Partial<ProcessorLimits>;
  dedupe?: DedupeLimits;
  /** Every turn's record, in seq order: the log writer and the replication stream take it from here. */
  onRecord: (epoch: number, seq: number, ts: number, req: UpdateRequest, model: string) => void;
  /** Every committed, accepted update, in seq order (PROTOCOL.md section 6; `writeEventOf` encodes it). */
  onEvent: (entry: DedupeEntry) => void;
}

export class Processor {
  /** The epoch this node writes new records in (primary) or last received (follower). */
  epoch = 0;
  /** Highest seq applied. */
  lastSeq = 0;
  /** The gate's watermark: highest seq whose reply may leave. */
  committedSeq = 0;
  /** Only a primary (or solo node) takes client updates. */
  accepting = false;
  /**
   * Sinks hear each outcome at its turn, not at its release: the client door forwards
   * the replies to the standby, which publishes them once it holds the records (set by
   * the reply gate while a standby is attached with `--reply-from standby`).
   */
  replyOnApply = false;

  /** Every asset as a row: id, model and committed view (asset-store.ts). */
  private readonly assets = new AssetStore();
  /** The actors of the assets with work (queued updates, or turns in the gate), by row. */
  private readonly actors = new Map<number, AssetActor>();
  private readonly dedupe: DedupeTable;
  /** The actors with updates queued for a turn, in turn order. */
  private readonly ready = new Fifo<AssetActor>();
  private readonly gate = new Fifo<Pending>();
  /** Work waiting for the watermark: [the lastSeq it waits for, what then]; lastSeq only grows, so oldest first. */
  private readonly afterCommit = new Fifo<[number, () => void]>();
  private readonly limits: ProcessorLimits;
  private inflight = 0;
  private drainScheduled = false;
  private readonly drainFn = () => this.drain();
  /** Snapshots being taken (usually none, at most a background one and a joiner's). */
  private walks: SnapshotWalk[] = [];
  /** Bumped when all state is replaced, which invalidates the walks in progress. */
  private generation = 0;
  /** A follower's copy of the row it applies a record to (one object for all records). */
  private readonly scratch: Applied = { state: undefined, version: 0, seq: 0 };

  constructor(private readonly opts: ProcessorOptions) {
    this.limits = { ...DEFAULT_PROCESSOR_LIMITS, ...opts.limits };
    this.dedupe = new DedupeTable(opts.dedupe ?? DEFAULT_DEDUPE_LIMITS, this.assets);
  }

  get assetCount(): number {
    return this.assets.size;
  }

  get inflightCount(): number {
    return this.inflight;
  }

  get dedupeSize(): number {
    return this.dedupe.size;
  }

  /** The reply remembered for a request id (what a retry of it gets), or undefined. */
  rememberedReply(id: string): UpdateReply | undefined {
    const e = this.dedupe.get(id);
    return e === undefined ? undefined : replyOf(e);
  }

  /** See DedupeTable.packLater: on while recovering, so that the pause is shorter. */
  set packLater(on: boolean) {
    this.dedupe.packLater = on;
  }

  /**
   * Forgets every remembered request id, so that a retried id runs again. Exactly-once
   * is lost: only the test-only breakage `forget-dedupe-on-failover` (libs/cluster
   * faults.ts) calls this, to show that the simulator catches it.
   */
  forgetRequestIds(): void {
    this.dedupe.clear();
  }

  /** Packs up to `max` remembered entries left unpacked by a recovery; whether some may remain. */
  packSome(max: number): boolean {
    return this.dedupe.packSome(max);
  }

  /** Deepest mailbox right now (for metrics). */
  mailboxDepthMax(): number {
    let max = 0;
    for (let i = 0; i < this.ready.length; i++) max = Math.max(max, this.ready.at(i)!.mailbox!.length);
    return max;
  }

  /** Updates queued for an asset's next turns (0 when none, or no such asset). */
  queuedFor(asset: string): number {
    return this.actors.get(this.assets.find(asset))?.mailbox?.length ?? 0;
  }

  /**
   * Admits one validated request. The sink hears exactly one reply for it: an error
   * at once, or the update's reply once the gate releases it.
   */
  submit(req: UpdateRequest, sink: ReplySink, index: number): void {
    if (!this.accepting) return sink.refused(index, errorReply('NOT_PRIMARY', 'this node is not the primary; retry on the cluster subject', req.id));
    const hash = hashId(req.id);
    const known = this.dedupe.get(req.id, hash);
    if (known !== undefined) return this.duplicate(known, req, sink, index);

    const assets = this.assets;
    let row = assets.find(req.asset);
    let model = row < 0 ? undefined : assets.model(row);
    if (model === undefined) {
      if (req.model === undefined) return sink.refused(index, errorReply('BAD_REQUEST', `model is required: asset "${req.asset}" does not exist yet`, req.id));
      model = this.opts.getModel(req.model);
      if (model === undefined) return sink.refused(index, errorReply('UNKNOWN_MODEL', `model "${req.model}" does not exist`, req.id));
    } else {
      if (req.model !== undefined && req.model !== model.name) {
        return sink.refused(index, errorReply('MODEL_MISMATCH', `asset "${req.asset}" has model "${model.name}", not "${req.model}"`, req.id));
      }
    }
    const problem = model.validate(req.op, req.args);
    if (problem !== null) return sink.refused(index, errorReply(problem.code, problem.message, req.id));
    if (this.inflight >= this.limits.inflightMax) {
      return sink.refused(
        index,
        errorReply('OVERLOADED', `node has ${this.inflight} updates in flight (limit ${this.limits.inflightMax}); retry later`, req.id),
      );
    }
    let actor = row < 0 ? undefined : this.actors.get(row);
    let mailbox = actor === undefined ? null : actor.mailbox;
    if (mailbox !== null && mailbox.length >= this.limits.mailboxMax) {
      return sink.refused(
        index,
        errorReply('OVERLOADED', `asset "${req.asset}" has ${mailbox.length} updates queued (limit ${this.limits.mailboxMax}); retry later`, req.id),
      );
    }
    if (row < 0) row = assets.add(req.asset, model);
    else if (!assets.hasModel(row)) assets.setModel(row, model);
    actor ??= this.actorOf(row, model);
    const entry = this.dedupe.admit(req, row, hash);
    this.inflight++;
    if (mailbox === null) {
      // An actor has a mailbox (and a place on the ready list) only while updates queue for it.
      mailbox = actor.mailbox = new Fifo<Pending>();
      this.ready.push(actor);
    }
    mailbox.push({ req, entry, sink, index, actor, seq: 0, state: undefined, version: 0, replied: false });
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      this.opts.defer(this.drainFn);
    }
  }

  /** The actor of a row with work coming: made from the row's committed view if it had none. */
  private actorOf(row: number, model: Model): AssetActor {
    const assets = this.assets;
    const actor = new AssetActor(row, model, assets.state(row), assets.version(row), assets.seq(row));
    this.actors.set(row, actor);
    return actor;
  }

  private duplicate(known: NonNullable<ReturnType<DedupeTable['get']>>, req: UpdateRequest, sink: ReplySink, index: number): void {
    const row = this.assets.find(req.asset);
    const model = row < 0 ? undefined : this.assets.model(row);
    const modelDiffers = req.model !== undefined && model !== undefined && model.name !== req.model;
    if (modelDiffers || !DedupeTable.sameRequest(known, req)) {
      return sink.refused(index, errorReply('ID_CONFLICT', `id "${req.id}" was already used for a different request`, req.id));
    }
    if (known.seq !== 0 && known.seq <= this.committedSeq) return sink.done(index, known);
    (known.waiters ??= []).push(sink, index);
  }

  /** Runs queued turns, round-robin over assets with work. */
  private drain(): void {
    this.drainScheduled = false;
    const budget = this.limits.turnBudget;
    while (this.ready.length > 0) {
      const actor = this.ready.shift()!;
      const mailbox = actor.mailbox!;
      for (let n = 0; n < budget && mailbox.length > 0; n++) this.turn(actor, mailbox.shift()!);
      if (mailbox.length > 0) this.ready.push(actor);
      else actor.mailbox = null;
    }
  }

  private turn(actor: AssetActor, p: Pending): void {
    const req = p.req;
    const seq = ++this.lastSeq;
    const ts = this.opts.clock.now();
    this.opts.onRecord(this.epoch, seq, ts, req, actor.model.name);
    const e = p.entry;
    this.applyTo(actor.model, actor, e, seq, this.epoch);
    actor.turns++;
    p.seq = seq;
    p.state = actor.state;
    p.version = actor.version;
    this.dedupe.stamp(e, seq, ts);
    this.gate.push(p);
    if (this.replyOnApply) {
      p.replied = true;
      p.sink.done(p.index, e);
    }
  }

  /**
   * Runs `fn` once everything applied so far is committed: now, or from the release
   * that gets there. Dropped if the node stops serving first (its clients retry).
   */
  whenCommitted(fn: () => void): void {
    if (this.committedSeq >= this.lastSeq) return fn();
    this.afterCommit.push([this.lastSeq, fn]);
  }

  /**
   * Applies an update to an asset's state (an actor's, or a follower's scratch copy of a
   * row) and records the outcome in its dedupe entry; shared by turns and followers.
   */
  private applyTo(model: Model, actor: Applied, e: DedupeEntry, seq: number, epoch: number): void {
    const out = model.apply(actor.state, e.op, e.args);
    actor.seq = seq;
    e.seq = seq;
    e.epoch = epoch;
    if (out.ok) {
      actor.state = out.state;
      actor.version++;
      e.ok = true;
      e.outcome = out.result;
    } else {
      e.ok = false;
      e.outcome = out.message;
    }
    e.version = actor.version;
  }

  /** The reply gate: releases every pending reply and event with seq <= watermark. */
  release(watermark: number): void {
    if (watermark <= this.committedSeq) return;
    this.committedSeq = Math.min(watermark, this.lastSeq);
    const gate = this.gate;
    for (let p = gate.peek(); p !== undefined && p.seq <= watermark; p = gate.peek()) {
      gate.shift();
      this.inflight--;
      const actor = p.actor;
      if (this.walks.length !== 0) this.keepForWalks(actor.row);
      this.assets.commit(actor.row, p.state, p.version, p.seq);
      // Its last turn released and nothing queued: the asset is only its row again.
      if (--actor.turns === 0 && actor.mailbox === null) this.actors.delete(actor.row);
      const entry = p.entry;
      if (!p.replied) p.sink.done(p.index, entry);
      const waiters = entry.waiters;
      if (waiters !== undefined) {
        entry.waiters = undefined;
        for (let i = 0; i < waiters.length; i += 2) (waiters[i] as ReplySink).done(waiters[i + 1] as number, entry);
      }
      // Released: retries are answered from the table's row from now on.
      this.dedupe.settle(entry);
      if (entry.ok) this.opts.onEvent(entry);
    }
    const after = this.afterCommit;
    for (let a = after.peek(); a !== undefined && a[0] <= this.committedSeq; a = after.peek()) {
      after.shift();
      a[1]();
    }
  }

  /**
   * Applies a record learnt from the log or from the primary. The caller guarantees
   * `seq === lastSeq + 1` (gaps are the replication layer's business).
   */
  applyRecord(epoch: number, seq: number, payload: Uint8Array): void {
    if (seq !== this.lastSeq + 1) throw new RecordApplyError(`record seq ${seq} does not follow ${this.lastSeq}`, seq);
    let rec: UpdateRecord;
    try {
      rec = decodeRecord(payload);
    } catch (err) {
      throw new RecordApplyError(`record ${seq} cannot be decoded: ${(err as Error).message}`, seq, { cause: err });
    }
    const assets = this.assets;
    let row = assets.find(rec.asset);
    let model = row < 0 ? undefined : assets.model(row);
    if (model === undefined) {
      model = this.opts.getModel(rec.model);
      if (model === undefined) throw new RecordApplyError(`record ${seq} names unknown model "${rec.model}"`, seq);
      if (row < 0) row = assets.add(rec.asset, model);
      else assets.setModel(row, model);
    }
    const entry = DedupeTable.entry(rec.id, rec.asset, rec.op, rec.args, undefined, row);
    if (this.walks.length !== 0) this.keepForWalks(row);
    const s = this.scratch;
    s.state = assets.state(row);
    s.version = assets.version(row);
    s.seq = assets.seq(row);
    this.applyTo(model, s, entry, seq, epoch);
    assets.commit(row, s.state, s.version, s.seq);
    s.state = undefined;
    // A replayed id that is already known (a duplicate record cannot exist, but a
    // snapshot may overlap the log's first records) is replaced by the newer entry.
    this.dedupe.insert(entry, seq, rec.ts);
    this.lastSeq = seq;
    this.committedSeq = seq;
    if (epoch > this.epoch) this.epoch = epoch;
  }

  /**
   * Drops every admitted update that has no turn yet and every pending reply: the node
   * lost the primary role, so those clients will retry elsewhere. Turns already taken
   * are NOT undone: they join the committed view (see below); a rejoin that finds them
   * unconfirmed replaces everything with the primary's snapshot.
   */
  abandonPending(): void {
    // Turns already taken stay applied (and in the log); whatever the node does next keeps
    // them (a tail from a primary whose log holds them, or a new epoch of its own) or
    // replaces everything (a snapshot). So the committed view (queries, digests,
    // snapshots) takes them now: left behind, it would miss them for good. Only actors
    // with a turn in the gate can be ahead of their committed view, and only actors on
    // the ready list have a mailbox: both lists are bounded by the updates in flight, so
    // a failover costs the same with a thousand assets or ten million.
    const gate = this.gate;
    for (let i = 0; i < gate.length; i++) {
      const p = gate.at(i)!;
      const a = p.actor;
      if (this.walks.length !== 0) this.keepForWalks(a.row);
      // The actor's latest applied state: the same for all of its turns in the gate.
      this.assets.commit(a.row, a.state, a.version, a.seq);
      // The turn stays remembered (its row); the waiting clients retry elsewhere.
      this.dedupe.settle(p.entry);
    }
    const ready = this.ready;
    for (let i = 0; i < ready.length; i++) {
      // Admitted updates without a turn are forgotten (their clients retry elsewhere).
      const mailbox = ready.at(i)!.mailbox!;
      for (let j = 0; j < mailbox.length; j++) this.dedupe.forget(mailbox.at(j)!.entry);
    }
    this.actors.clear();
    // ... and so does the watermark: a snapshot taken at committedSeq must not hold more than it says.
    this.committedSeq = this.lastSeq;
    this.ready.clear();
    this.gate.clear();
    this.afterCommit.clear();
    this.inflight = 0;
  }

  query(asset: string): QueryReply {
    const assets = this.assets;
    const row = assets.find(asset);
    const version = row < 0 ? 0 : assets.version(row);
    if (version === 0) return errorReply('NOT_FOUND', `asset "${asset}" does not exist`) as ErrorReply;
    const model = assets.model(row)!;
    return { ok: true, asset, model: model.name, version, state: viewOf(model, assets.state(row)), seq: assets.seq(row) };
  }

  /**
   * A hash over every asset's model, version and committed state (see StateDigest);
   * equal on two nodes that committed the same prefix. All at once: a serving node
   * takes it a slice at a time instead (`digestSliced`).
   */
  digest(): { digest: string; appliedSeq: number } {
    const walk = this.beginSnapshot();
    const d = new StateDigest();
    for (let slice = walk.nextAssets(DIGEST_SLICE_ASSETS); slice.length > 0; slice = walk.nextAssets(DIGEST_SLICE_ASSETS)) d.add(slice);
    return { digest: d.hex(), appliedSeq: walk.seq };
  }

  /** The same digest, a slice per `pause`, exact as of the committed watermark when it began. */
  async digestSliced(pause: () => Promise<void>): Promise<{ digest: string; appliedSeq: number }> {
    const walk = this.beginSnapshot();
    try {
      const d = new StateDigest();
      for (let slice = walk.nextAssets(DIGEST_SLICE_ASSETS); slice.length > 0; slice = walk.nextAssets(DIGEST_SLICE_ASSETS)) {
        d.add(slice);
        await pause();
      }
      return { digest: d.hex(), appliedSeq: walk.seq };
    } finally {
      walk.end();
    }
  }

  /**
   * Starts a snapshot of the committed view at committedSeq, to be read a slice at a
   * time (see SnapshotWalk); it stays exact while later updates proceed. The caller
   * reads it to the end or calls `end()`.
   */
  beginSnapshot(): SnapshotWalk {
    const seq = this.committedSeq;
    const generation = this.generation;
    const walk = new SnapshotWalk(
      seq,
      this.epoch,
      this.assets,
      this.dedupe.rowsUpTo(seq),
      (w) => (this.walks = this.walks.filter((x) => x !== w)),
      () => {
        if (this.generation !== generation)
          throw new RecordApplyError(`the snapshot at seq ${seq} was abandoned: the node's state was replaced while it was taken`, seq);
      },
    );
    this.walks.push(walk);
    return walk;
  }

  /** The whole snapshot at once (tests and small tools; a serving node walks it instead). */
  captureSnapshot(): SnapshotImage {
    const walk = this.beginSnapshot();
    const assets: SnapshotAsset[] = [];
    for (let slice = walk.nextAssets(4096); slice.length > 0; slice = walk.nextAssets(4096)) for (const a of slice) assets.push(a);
    const dedupe: SnapshotDedupe[] = [];
    for (let rows = walk.nextDedupe(4096); rows.length > 0; rows = walk.nextDedupe(4096)) for (const r of rows) dedupe.push(r);
    walk.end();
    return { seq: walk.seq, epoch: walk.epoch, assets, dedupe };
  }

  private keepForWalks(row: number): void {
    for (const w of this.walks) w.keep(row);
  }

  /** Replaces all state with a snapshot's (recovery, or a standby's catch-up sync). */
  loadSnapshot(image: SnapshotImage): void {
    this.beginLoad();
    this.loadAssets(image.seq, image.assets);
    this.loadDedupe(image.dedupe);
    this.endLoad(image.seq, image.epoch);
  }

  /**
   * The sliced form of loadSnapshot, so that a large snapshot loads between other work
   * (heartbeats): beginLoad (with the count of remembered requests to come, when
   * known), then loadAssets and loadDedupe a slice at a time (every
   * asset before the dedupe rows that name them), then endLoad. Nothing may be applied
   * in between; the state is incomplete until endLoad.
   */
  beginLoad(dedupe = 0): void {
    // A snapshot walk in progress reads the state being replaced: it ends here, with an error.
    this.generation++;
    for (const w of [...this.walks]) w.end();
    this.abandonPending();
    this.assets.clear();
    this.dedupe.clear(dedupe);
  }

  /** `seq` is the snapshot's, for the error message. */
  loadAssets(seq: number, rows: readonly SnapshotAsset[]): void {
    for (const [asset, modelName, version, aseq, state] of rows) {
      const model = this.opts.getModel(modelName);
      if (model === undefined) throw new RecordApplyError(`snapshot names unknown model "${modelName}"`, seq);
      let s: unknown;
      try {
        s = stateOf(model, state);
      } catch (err) {
        throw new RecordApplyError(`snapshot asset "${asset}": ${(err as Error).message}`, seq, { cause: err });
      }
      if (this.assets.find(asset) >= 0) throw new RecordApplyError(`snapshot holds asset "${asset}" twice`, seq);
      this.assets.commit(this.assets.add(asset, model), s, version, aseq);
    }
  }

  loadDedupe(rows: readonly (SnapshotDedupe | DedupeEntry)[]): void {
    for (const row of rows) {
      const [id, asset, op, args, seq, ts, epoch, version, ok, outcome] = dedupeRow(row);
      const e = DedupeTable.entry(id, asset, op, args ?? undefined, undefined, this.assets.intern(asset));
      e.epoch = epoch;
      e.version = version;
      e.ok = ok;
      e.outcome = outcome;
      this.dedupe.insert(e, seq, ts);
    }
  }

  /** loadDedupe of `n` rows read from a snapshot's bytes (DedupeTable.loadRows). */
  loadDedupeRows(r: MsgReader, n: number): void {
    this.dedupe.loadRows(r, n);
  }

  endLoad(seq: number, epoch: number): void {
    this.lastSeq = seq;
    this.committedSeq = seq;
    this.epoch = epoch;
  }

  /** Forgets everything (before a rebuild from the log). */
  reset(): void {
    this.loadSnapshot({ seq: 0, epoch: 0, assets: [], dedupe: [] });
  }
}

/** What `applyTo` changes: an actor, or a follower's scratch copy of a row. */
interface Applied {
  state: unknown;
  version: number;
  seq: number;
}

export interface SnapshotImage {
  seq: number;
  epoch: number;
  assets: SnapshotAsset[];
  dedupe: SnapshotDedupe[];
}

export function dedupeRow(x: SnapshotDedupe | DedupeEntry): SnapshotDedupe {
  return Array.isArray(x) ? x : [x.id, x.asset, x.op, argsOf(x) ?? null, x.seq, x.ts, x.epoch, x.version, x.ok, outcomeOf(x)];
}
