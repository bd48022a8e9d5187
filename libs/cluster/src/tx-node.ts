/**
 * A TxTest node's core, sans-IO: recovery (snapshot + log replay), the epoch record,
 * the processor with its reply gate, the log writer with its fsync policy, background
 * snapshots, the client, query and status subjects, and (in a pair) heartbeats,
 * negotiation, replication and failover. The role machine (libs/actors) is the only
 * thing that changes the node's role; this class supplies its actions and feeds it
 * events. The app supplies the adapters (NATS transport, file storage, clock, logger,
 * arbiter) and the HTTP side.
 *
 * The reply gate's watermark: solo, the local log (written, or synced with `--fsync
 * always`); primary with a standby, the lower of that and the standby's acknowledged
 * watermark. So an `ok` never reveals an update the standby (or the log) lacks.
 */
import {
  Processor,
  decodeSnapshot,
  encodeSnapshot,
  roleChange,
  roleMachine,
  roleOf,
  writeEventOf,
  type Clock,
  type DedupeEntry,
  type DedupeLimits,
  type Defer,
  type ProcessorLimits,
  type RoleChange,
  type RoleState,
  type TimerHandle,
} from '@txtest/actors';
import type { Model } from '@txtest/models';
import { compact, FRAME_OVERHEAD_BYTES, LogWriter, recover, sealFrame, writeSnapshot, type LogStorage } from '@txtest/journal';
import {
  decodeBody,
  encodeBody,
  MsgWriter,
  NodeKind,
  writeRecord,
  type NodeMessage,
  type NodeStatus,
  type NodeSummary,
  type Subjects,
} from '@txtest/protocol';
import { createActor, type Actor } from 'xstate';
import type { Arbiter } from './arbiter';
import { ClientDoor } from './client-door';
import { describeFsync, SyncPolicy, type FsyncPolicy } from './durability';
import { choosePrimary, noteEpoch } from './election';
import { EMPTY_EPOCH_RECORD, type EpochRecord, type EpochStorage } from './epoch-store';
import { dropAckedProcessor, type Faults } from './faults';
import type { NodeStats } from './node-stats';
import { Follower } from './follower';
import { PeerLink } from './peer-link';
import { Replicator } from './replicator';
import type { Logger, Subscription, Transport } from './transport';

export interface TxNodeOptions {
  nodeId: string;
  /** The other node of the pair; null when standalone. */
  peerId: string | null;
  subjects: Subjects;
  transport: Transport;
  clock: Clock;
  defer: Defer;
  logStorage: LogStorage;
  epochStorage: EpochStorage;
  log: Logger;
  getModel: (name: string) => Model | undefined;
  fsync: FsyncPolicy;
  bodyBytesMax: number;
  limits?: Partial<ProcessorLimits>;
  dedupe?: DedupeLimits;
  /** Publish committed updates on P.C.events.<asset> (default true). */
  events?: boolean;
  /** Records between background snapshots; 0 turns them off. */
  snapshotEveryRecords: number;
  segmentBytesMax: number;
  repairLog: boolean;
  heartbeatIntervalMs?: number;
  heartbeatMissed?: number;
  /** What a standby's ack means: in memory (default) or synced to its log. */
  ack?: 'received' | 'logged';
  /** Compare-and-set on every epoch change; null runs without one. */
  arbiter?: Arbiter | null;
  /** Start as primary without the peer (operator override). */
  forcePrimary?: boolean;
  /** Bytes of recent frames the primary keeps in memory for resends (default 32 MiB); older ones come from the log. */
  replicationRingBytes?: number;
  /** Fields the app adds to status (pid, http address). */
  statusExtras: () => { pid: number; http: string };
  /** Every role change, after it is logged (for the HTTP live stream). */
  onRoleChange?: (change: RoleChange) => void;
  /** Test-only breakage (see faults.ts); empty in production. */
  faults?: Faults;
  /** Once, when the node fails (its log, or its epoch record): it takes and follows no more updates. */
  onFailed?: (err: Error) => void;
}

const SERVING: ReadonlySet<RoleState> = new Set(['primary', 'solo']);
/** Event subjects kept (see TxNode.eventSubjects). */
const EVENT_SUBJECTS_CACHED = 16_384;
/** The heartbeat lateness in stats covers the last one to two of these windows. */
const STALL_WINDOW_MS = 5_000;
/** Remembered entries packed per timer tick after a recovery (about 10 ms of work here). */
const PACK_SLICE_ENTRIES = 20_000;

export class TxNode {
  readonly processor: Processor;
  private writer: LogWriter | null = null;
  private sync: SyncPolicy | null = null;
  private epochRecord: EpochRecord = EMPTY_EPOCH_RECORD;
  private readonly subs: Subscription[] = [];
  private clientSubs: Subscription[] = [];
  private readonly door: ClientDoor;
  /** One writer for records and events: both are written and taken within one call. */
  private readonly w = new MsgWriter();
  private snapshotting = false;
  private packing = false;
  private lastSnapshotSeq = 0;
  private writtenSeq = 0;
  private syncedSeq = 0;
  /** Where replies come from: the local log alone, or also the standby's acks; 'hold' releases nothing. */
  private gate: 'local' | 'standby' | 'hold' = 'hold';
  private readonly actor: Actor<typeof roleMachine>;
  private readonly link: PeerLink | null;
  private readonly replicator: Replicator | null;
  private readonly follower: Follower | null;
  private peer: NodeSummary | null = null;
  /** The arbiter's value as last read (negotiation weighs it). */
  private arbiterView: { epoch: number; primary: string } | null = null;
  private lastPeerAt = Number.NEGATIVE_INFINITY;
  private lastAliveSentAt = Number.NEGATIVE_INFINITY;
  private negotiatingSince = 0;
  private lastJoinAt = Number.NEGATIVE_INFINITY;
  private lastArbiterReadAt = Number.NEGATIVE_INFINITY;
  /** The standby's lastSeq when the primary's previous heartbeat came. */
  private seqAtLastBeat = -1;
  private waitingLogged = false;
  private heartbeatTimer: TimerHandle | null = null;
  /** When the heartbeat timer last ran (a stalled event loop shows as an overdue beat). */
  private lastBeatAt = 0;
  /** When an overdue beat last showed a stalled event loop. */
  private lastStallAt = Number.NEGATIVE_INFINITY;
  /** The heartbeat timer's lateness, worst of the current and the previous window (see STALL_WINDOW_MS). */
  private beatLateMs = 0;
  private beatLatePrevMs = 0;
  private beatLateWindowAt = 0;
  private readonly heartbeatIntervalMs: number;
  private readonly heartbeatMissed: number;
  private stopped: Promise<void> | null = null;
  /** A primary with a live standby hands over on SIGTERM instead of just leaving. */
  private handingOver = false;
  private resolveStopped: (() => void) | null = null;
  /** Set when the log failed: the node stops taking updates rather than ack unlogged ones. */
  failed: Error | null = null;
  /** Times this node took over as primary (for metrics). */
  promotions = 0;
  /** The operator's --force-primary decided this promotion: it overrides the arbiter's record, once. */
  private forcing = false;

  constructor(private readonly o: TxNodeOptions) {
    this.heartbeatIntervalMs = o.heartbeatIntervalMs ?? 50;
    this.heartbeatMissed = o.heartbeatMissed ?? 4;
    this.processor = new Processor({
      clock: o.clock,
      defer: o.defer,
      getModel: o.getModel,
      limits: o.limits ?? {},
      ...(o.dedupe ? { dedupe: o.dedupe } : {}),
      onRecord: (epoch, seq, ts, req, model) => {
        // The record is written straight into its frame: one buffer, no copy.
        const w = this.w;
        w.reserve(FRAME_OVERHEAD_BYTES);
        writeRecord(w, ts, req.id, req.asset, model, req.op, req.args);
        const frame = sealFrame(w.take(), epoch, seq);
        this.writer!.append(frame);
        this.replicator?.onFrame(seq, frame);
      },
      onEvent:
        o.events === false
          ? () => undefined
          : (e) => {
              // Events wait two microtasks: the replies of the same release queue their
              // NATS flush within it, so that flush (one socket write) runs before the events
              // are even encoded, and the clients' wait does not include them.
              if (this.events.length === 0) queueMicrotask(this.publishEventsSoonFn);
              this.events.push(e);
            },
    });
    this.door = new ClientDoor(o.faults?.has('drop-acked') ? dropAckedProcessor(this.processor) : this.processor, o.transport, o.bodyBytesMax);
    if (o.peerId === null) {
      this.link = null;
      this.replicator = null;
      this.follower = null;
    } else {
      this.link = new PeerLink(o.transport, o.subjects, o.nodeId, o.peerId, (m) => this.onPeerMessage(m), o.log);
      this.replicator = new Replicator({
        link: this.link,
        nodeId: o.nodeId,
        epoch: () => this.epochRecord.epoch,
        lastSeq: () => this.processor.lastSeq,
        committedSeq: () => this.processor.committedSeq,
        history: () => this.epochRecord.history,
        storage: o.logStorage,
        snapshot: () => this.snapshotChunks(),
        onAck: () => this.releaseGate(),
        onLive: () => this.actor.send({ type: 'STANDBY_ATTACHED' }),
        log: o.log,
        ...(o.replicationRingBytes === undefined ? {} : { ringBytesMax: o.replicationRingBytes }),
        ...(o.faults?.has('skip-rejoin-truncation') ? { skipRejoinTruncation: true } : {}),
      });
      this.follower = new Follower({
        link: this.link,
        nodeId: o.nodeId,
        epoch: () => this.epochRecord.epoch,
        ack: o.ack ?? 'received',
        apply: (epoch, seq, frame, payloadStart) => this.applyReplicated(epoch, seq, frame, payloadStart),
        lastSeq: () => this.processor.lastSeq,
        installSnapshot: (seq, epoch, body, history) => this.installSnapshot(seq, epoch, body, history),
        onCaughtUp: () => this.actor.send({ type: 'SYNCED' }),
        resendRetryMs: 2 * (o.heartbeatIntervalMs ?? 50),
        log: o.log,
      });
    }
    this.actor = createActor(
      roleMachine.provide({
        guards: {
          // The heartbeat timer runs every interval; when it is overdue, this node's event
          // loop was blocked (GC, a large snapshot) and the peer's messages may be unread.
          peerSilent: () => {
            const now = o.clock.now();
            return now - this.lastBeatAt <= 1.5 * this.heartbeatIntervalMs && now - this.lastStallAt > this.heartbeatIntervalMs;
          },
        },
        actions: {
          sendHello: () => this.sendHello(),
          openEpoch: () => void this.openEpoch(),
          enterPrimary: () => this.serve('standby'),
          enterSolo: () => {
            // The standby was given up on: stop its stream, so that only a fresh JOIN (and the
            // catch-up it starts) can make it a standby again. A stale live stream would let it
            // think itself attached, and later fail over without what this solo node acked.
            this.replicator?.stopFollowing();
            this.serve('local');
          },
          leavePrimary: () => this.hold(),
          leaveSolo: () => this.hold(),
          startSync: () => this.startSync(),
          enterStandby: () => undefined,
          leaveStandby: () => undefined,
          enterFenced: () => this.fence(),
          // A failed log cannot be flushed: the stop still completes (STOPPED is sent in a finally).
          enterStopping: () => void this.shutdown().catch((err: Error) => o.log.warn({ err: err.message }, 'the log could not be flushed on stop')),
        },
      }),
      {
        clock: o.clock as never,
        input: {
          nodeId: o.nodeId,
          peerId: o.peerId,
          standalone: o.peerId === null,
          heartbeatIntervalMs: this.heartbeatIntervalMs,
          heartbeatMissed: this.heartbeatMissed,
        },
      },
    );
    let prev = this.actor.getSnapshot();
    this.actor.subscribe((next) => {
      const found = roleChange(prev, next);
      prev = next;
      if (found === null) return;
      // The machine's epoch is the one this node opened; a follower lives in its
      // primary's epoch, which only the epoch record knows.
      const change = { ...found, epoch: Math.max(found.epoch, this.epochRecord.epoch) };
      o.log.info({ from: change.from, to: change.to, epoch: change.epoch, reason: change.reason }, `${change.from} -> ${change.to}`);
      o.onRoleChange?.(change);
    });
  }

  get role(): RoleState {
    return roleOf(this.actor.getSnapshot());
  }

  /**
   * Event subjects of recently updated assets, so that a busy asset's subject is built
   * once rather than once per update. Bounded: one entry per asset would cost a node
   * of a million assets about 90 bytes each, more than the asset itself.
   */
  private readonly eventSubjects = new Map<string, string>();
  /** Committed entries whose events are not published yet, in seq order. */
  private events: DedupeEntry[] = [];
  private readonly publishEventsSoonFn = () => queueMicrotask(this.publishEventsFn);
  private readonly publishEventsFn = () => {
    const events = this.events;
    this.events = [];
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      writeEventOf(this.w, e);
      this.o.transport.publish(this.eventSubject(e.asset), this.w.take());
    }
  };

  private eventSubject(asset: string): string {
    let s = this.eventSubjects.get(asset);
    if (s === undefined) {
      s = this.o.subjects.events(asset);
      if (this.eventSubjects.size >= EVENT_SUBJECTS_CACHED) this.eventSubjects.clear();
      this.eventSubjects.set(asset, s);
    }
    return s;
  }

  async start(): Promise<void> {
    const { o } = this;
    // Status answers from the first moment, whatever the role.
    this.subs.push(o.transport.subscribe(o.subjects.status(o.nodeId), (data, reply, json) => this.onStatus(data, reply, json)));
    this.actor.start();
    this.actor.send({ type: 'START' });
    const t0 = o.clock.now();
    const rec = await recover(o.logStorage, { repair: o.repairLog, warn: (msg) => o.log.warn({}, msg) });
    this.processor.packLater = true;
    if (rec.snapshot !== null) this.processor.loadSnapshot(decodeSnapshot(rec.snapshot.body));
    this.lastSnapshotSeq = rec.snapshot?.seq ?? 0;
    const replayed = await rec.replay(this.processor.lastSeq + 1, (epoch, seq, payload) => this.processor.applyRecord(epoch, seq, payload));
    this.processor.packLater = false;
    this.packBacklog();
    o.log.info(
      { snapshotSeq: this.lastSnapshotSeq, replayed, lastSeq: this.processor.lastSeq, assets: this.processor.assetCount, ms: o.clock.now() - t0 },
      'recovered from the log',
    );
    this.openWriter(this.processor.lastSeq, rec.lastEpoch);
    this.epochRecord = (await o.epochStorage.load()) ?? EMPTY_EPOCH_RECORD;
    if (o.arbiter) this.arbiterView = (await o.arbiter.read()).value;
    this.processor.epoch = Math.max(this.epochRecord.epoch, this.processor.epoch);
    if (this.link !== null) {
      this.link.start();
      this.lastBeatAt = o.clock.now();
      this.beat();
    }
    await o.transport.flush();
    this.negotiatingSince = o.clock.now();
    this.actor.send({ type: 'RECOVERED', epoch: this.epochRecord.epoch });
  }

  private openWriter(lastSeq: number, lastEpoch: number): void {
    const { o } = this;
    this.writtenSeq = lastSeq;
    this.syncedSeq = lastSeq;
    // What recovery kept, or a snapshot just installed, is durable: `--ack logged` may ack it.
    if (this.follower) this.follower.syncedSeq = lastSeq;
    this.replicator?.reset(lastSeq + 1);
    this.writer = new LogWriter({
      storage: o.logStorage,
      lastSeq,
      lastEpoch,
      segmentBytesMax: o.segmentBytesMax,
      // The group is written right after the turns that filled it (a microtask after the
      // drain), not one event-loop iteration later: the turns of a drain are the group.
      defer: queueMicrotask,
      onWritten: (seq) => {
        this.writtenSeq = seq;
        this.sync!.onWritten();
        if (!this.sync!.gateOnSync) this.releaseGate();
        this.maybeSnapshot();
      },
      // A real fsync: it opens the gate with `--fsync always`, and is what `--ack logged` waits for.
      onSynced: (seq) => {
        this.syncedSeq = seq;
        // Only a follower acks its syncs (`--ack logged`); a primary's own syncs are no ack.
        const role = this.role;
        if (role === 'standby' || role === 'syncing') this.follower?.onSynced(seq);
        else if (this.follower) this.follower.syncedSeq = seq;
        if (this.sync!.gateOnSync) this.releaseGate();
      },
      onError: (err) => this.fail(err),
    });
    this.sync?.stop();
    this.sync = new SyncPolicy(o.fsync, this.writer, o.clock, (err) => this.fail(err));
  }

  /** The gate's watermark right now (see the module comment). */
  private releaseGate(): void {
    if (this.gate === 'hold') return;
    const local = this.sync!.gateOnSync ? this.syncedSeq : this.writtenSeq;
    // Test-only fault: without the standby's ack in the watermark, a reply can reveal an unreplicated update.
    const withStandby = this.gate === 'standby' && !this.o.faults?.has('reply-before-standby-ack');
    const mark = withStandby ? Math.min(local, this.replicator!.standbyAck) : local;
    this.processor.release(mark);
  }

  // ---- serving ------------------------------------------------------------------

  private serve(gate: 'local' | 'standby'): void {
    this.gate = gate;
    this.processor.epoch = this.epochRecord.epoch;
    this.processor.accepting = this.failed === null;
    if (this.clientSubs.length === 0) {
      // A queue group keeps a stray second subscriber from doubling work; the epoch rules keep it from acking.
      this.clientSubs.push(this.o.transport.subscribe(this.o.subjects.tx, this.door.onTx, { queue: 'txtest' }));
      this.clientSubs.push(this.o.transport.subscribe(this.o.subjects.query, this.door.onQuery, { queue: 'txtest' }));
    }
    this.releaseGate();
    if (gate === 'local' && this.o.peerId === null) this.o.log.info({ fsync: describeFsync(this.o.fsync) }, 'serving standalone');
  }

  /** Between roles: keep what is pending (a new epoch may still confirm it) but release nothing. */
  private hold(): void {
    this.gate = 'hold';
  }

  private unserve(): void {
    for (const s of this.clientSubs.splice(0)) s.unsubscribe();
    this.processor.accepting = false;
    this.gate = 'hold';
    this.processor.abandonPending();
  }

  private fence(): void {
    this.unserve();
    this.replicator?.stopFollowing();
    // What this node holds beyond the new primary's history is dropped when it rejoins:
    // the primary compares histories and sends a snapshot when the logs diverge.
    queueMicrotask(() => this.actor.send({ type: 'FENCE_DONE' }));
  }

  // ---- epochs --------------------------------------------------------------------

  /** Saves run one at a time, in order: two racing renames of one temp file would fail. */
  private saving: Promise<void> = Promise.resolve();

  private saveRecord(record: EpochRecord): Promise<void> {
    const before = this.epochRecord;
    this.epochRecord = record;
    const done = this.saving.then(() => this.o.epochStorage.save(record));
    this.saving = done.catch(() => {
      // Not persisted: this node must not go on claiming an epoch its disk does not hold
      // (it would refuse its primary's lower-epoch messages and never follow again).
      if (this.epochRecord === record) this.epochRecord = before;
    });
    return done;
  }

  /**
   * Opens a new epoch: persisted (and, with an arbiter, won by compare-and-set) before
   * the node serves anything in it (DESIGN.md section 5, rule 1).
   */
  private async openEpoch(): Promise<void> {
    const { o } = this;
    try {
      this.processor.accepting = false;
      // A node whose log failed holds state it could not write: serving a new epoch on it
      // would make the peer follow (and, after a restart, lose) what only its memory had.
      if (this.failed !== null) {
        this.actor.send({ type: 'PROMOTION_FAILED', reason: `the log failed: ${this.failed.message}` });
        return;
      }
      // Let admitted updates take their turns in the old epoch before the new one begins.
      await new Promise<void>((resolve) => queueMicrotask(resolve));
      // The new epoch builds on every record this node holds, some perhaps only received
      // (a standby acks on receipt): they must be in its log, durably, before it claims the
      // epoch at the arbiter, whose word outlives this process: a crash after the claim must
      // not leave the named primary without updates already acked.
      await this.writer!.idle();
      await this.writer!.sync();
      const prev = this.epochRecord;
      let epoch = Math.max(prev.epoch, this.peer?.epoch ?? 0) + 1;
      if (o.arbiter) {
        const r = await o.arbiter.read();
        this.arbiterView = r.value;
        // The operator's force overrides the arbiter's record of the lost peer (once: later
        // promotions of this process obey the arbiter again).
        const forced = this.forcing;
        this.forcing = false;
        if (r.value !== null && r.value.epoch > prev.epoch && r.value.primary !== o.nodeId && !forced) {
          this.actor.send({ type: 'PROMOTION_FAILED', reason: `the arbiter holds epoch ${r.value.epoch} by ${r.value.primary}` });
          return;
        }
        epoch = Math.max(epoch, (r.value?.epoch ?? 0) + 1);
        const cas = await o.arbiter.compareAndSet(r.revision, { epoch, primary: o.nodeId });
        if (!cas.ok) {
          const v = cas.current.value;
          this.actor.send({ type: 'PROMOTION_FAILED', reason: `lost the arbiter's compare-and-set to ${v ? `${v.primary} in epoch ${v.epoch}` : 'another writer'}` });
          return;
        }
      }
      const firstSeq = this.processor.lastSeq + 1;
      // Test-only fault: taking over from the peer with an empty dedupe memory (exactly-once lost).
      if (prev.primary !== o.nodeId && o.faults?.has('forget-dedupe-on-failover')) this.processor['dedupe'].clear();
      await this.saveRecord({ epoch, role: 'primary', primary: o.nodeId, history: noteEpoch(prev.history, epoch, firstSeq) });
      this.processor.epoch = epoch;
      this.promotions++;
      this.actor.send({ type: 'EPOCH_OPENED', epoch, withStandby: false });
    } catch (err) {
      this.actor.send({ type: 'PROMOTION_FAILED', reason: `cannot open a new epoch: ${(err as Error).message}` });
    }
  }

  // ---- the pair -------------------------------------------------------------------

  private summary(): NodeSummary {
    const r = this.epochRecord;
    return {
      from: this.o.nodeId,
      epoch: r.epoch,
      role: this.role,
      primary: r.primary,
      recordRole: r.role,
      lastSeq: this.processor.lastSeq,
      ackSeq: this.replicator?.mode === 'live' ? this.replicator.standbyAck : this.processor.committedSeq,
      history: r.history,
    };
  }

  /** Heartbeats every interval, in every role: they are also how a stale node learns the epoch. */
  private beat(): void {
    const { o } = this;
    this.heartbeatTimer = o.clock.setTimeout(() => {
      const now = o.clock.now();
      // A beat far behind its schedule means this node's event loop stalled just now.
      if (now - this.lastBeatAt > 1.5 * this.heartbeatIntervalMs) this.lastStallAt = now;
      const lateMs = now - this.lastBeatAt - this.heartbeatIntervalMs;
      this.noteBeatLateness(now, lateMs);
      // Worth a line: half the peer timeout is where a busy primary starts to look dead.
      if (lateMs > this.peerTimeoutMs() / 2) o.log.warn({ lateMs: Math.round(lateMs), role: this.role }, `event loop stalled: the heartbeat ran ${Math.round(lateMs)} ms late`);
      this.lastBeatAt = now;
      if (this.stopped !== null && this.resolveStopped === null) return;
      this.link!.send(NodeKind.HEARTBEAT, this.summary());
      const role = this.role;
      // Acks are sent when records arrive; one lost while no more come would hold the
      // primary's replies forever, so a standby repeats its watermark with each beat.
      if (role === 'standby') this.follower!.scheduleAck();
      // A join that got no stream going (lost, or sent before the peer served) is sent again.
      if (role === 'syncing' && !this.follower!.caughtUp && now - this.follower!.lastStreamAt > this.peerTimeoutMs() && now - this.lastJoinAt > this.peerTimeoutMs()) {
        this.lastJoinAt = now;
        this.link!.send(NodeKind.JOIN, this.summary());
      }
      this.beat();
    }, this.heartbeatIntervalMs);
  }

  private noteBeatLateness(now: number, lateMs: number): void {
    if (now - this.beatLateWindowAt >= STALL_WINDOW_MS) {
      this.beatLatePrevMs = this.beatLateMs;
      this.beatLateMs = 0;
      this.beatLateWindowAt = now;
    }
    if (lateMs > this.beatLateMs) this.beatLateMs = lateMs;
  }

  private peerTimeoutMs(): number {
    return this.heartbeatIntervalMs * this.heartbeatMissed;
  }

  private sendHello(): void {
    const { o } = this;
    this.link?.send(NodeKind.HELLO, this.summary());
    // Both nodes must weigh the same arbiter value, or each may name the other primary and
    // both wait forever: while the peer talks, re-read it once per peer timeout.
    if (o.arbiter && o.clock.now() - this.lastPeerAt < this.peerTimeoutMs() && o.clock.now() - this.lastArbiterReadAt >= this.peerTimeoutMs()) {
      this.lastArbiterReadAt = o.clock.now();
      void o.arbiter.read().then(
        (r) => void (this.arbiterView = r.value),
        () => undefined,
      );
    }
    // Alone too long: only the arbiter or the operator may let this node serve.
    if (o.clock.now() - this.negotiatingSince < this.peerTimeoutMs()) return;
    if (o.clock.now() - this.lastPeerAt < this.peerTimeoutMs()) return;
    if (o.forcePrimary) {
      o.log.warn({ epoch: this.epochRecord.epoch }, 'FORCED PRIMARY: --force-primary starts this node as primary without its peer; if the peer was primary later, its newer updates will be discarded when it rejoins');
      this.forcing = true;
      return void this.actor.send({ type: 'DECIDED_PRIMARY', reason: 'forced by the operator (--force-primary)' });
    }
    if (o.arbiter) {
      // One arbiter read per peer timeout is plenty while waiting; hellos go out every interval.
      if (o.clock.now() - this.lastArbiterReadAt < this.peerTimeoutMs()) return;
      this.lastArbiterReadAt = o.clock.now();
      void o.arbiter.read().then(
        (r) => {
          this.arbiterView = r.value;
          if (this.role !== 'negotiating') return;
          const v = r.value;
          if (v !== null && v.primary === o.nodeId && v.epoch === this.epochRecord.epoch) {
            this.actor.send({ type: 'DECIDED_PRIMARY', reason: `the arbiter confirms this node was primary in epoch ${v.epoch}` });
          } else this.logWaiting(v === null ? 'the arbiter has no primary on record' : `the arbiter names ${v.primary} in epoch ${v.epoch}`);
        },
        (err: Error) => this.logWaiting(`the arbiter cannot be read: ${err.message}`),
      );
      return;
    }
    this.logWaiting('no arbiter');
  }

  private logWaiting(why: string): void {
    if (this.waitingLogged) return;
    this.waitingLogged = true;
    this.o.log.warn({ peer: this.o.peerId, epoch: this.epochRecord.epoch, why }, `waiting for peer ${this.o.peerId}: this node cannot be sure it was the last primary (${why}); start the peer, or pass --force-primary`);
  }

  private startSync(): void {
    this.unserve();
    this.replicator!.stopFollowing();
    this.follower!.reset();
    this.lastJoinAt = this.o.clock.now();
    this.link!.send(NodeKind.JOIN, this.summary());
  }

  private onPeerMessage(m: NodeMessage): void {
    const { o } = this;
    const now = o.clock.now();
    this.lastPeerAt = now;
    const role = this.role;
    const h = m.header;
    const mine = this.epochRecord.epoch;
    const claimsPrimary =
      m.kind === NodeKind.REPLICATE || m.kind === NodeKind.SNAPSHOT || ((m.kind === NodeKind.HEARTBEAT || m.kind === NodeKind.HELLO) && (m.header.role === 'primary' || m.header.role === 'solo'));
    // A follower watches its primary, not any peer: two syncing nodes must not keep each other waiting.
    const following = role === 'standby' || role === 'syncing';
    if ((!following || (claimsPrimary && h.epoch >= mine)) && now - this.lastAliveSentAt >= this.heartbeatIntervalMs / 4) {
      this.lastAliveSentAt = now;
      this.actor.send({ type: 'PEER_ALIVE' });
    }
    if (m.kind === NodeKind.HEARTBEAT || m.kind === NodeKind.HELLO || m.kind === NodeKind.JOIN) this.peer = m.header;

    if (claimsPrimary && h.epoch > mine) {
      // Test-only fault: a serving node that ignores a newer primary keeps its role.
      if ((SERVING.has(role) || role === 'promoting') && this.o.faults?.has('no-fencing')) return;
      if (SERVING.has(role) || role === 'promoting' || role === 'standby') {
        return void this.actor.send({ type: 'HIGHER_EPOCH', epoch: h.epoch, from: h.from });
      }
      if (role === 'syncing') void this.adopt(h.epoch, h.from).catch((err: Error) => this.fail(err));
      if (role === 'negotiating') return void this.actor.send({ type: 'DECIDED_STANDBY', reason: `peer ${h.from} is primary in epoch ${h.epoch}` });
    } else if (!claimsPrimary && h.epoch > mine && SERVING.has(role) && (m.kind === NodeKind.HEARTBEAT || m.kind === NodeKind.HELLO)) {
      // The peer opened a newer epoch (it won the arbiter, then lost its process before it
      // served) and now refuses this primary's messages: this primary is the stale one.
      if (!this.o.faults?.has('no-fencing')) return void this.actor.send({ type: 'HIGHER_EPOCH', epoch: h.epoch, from: h.from });
    } else if (claimsPrimary && h.epoch < mine && (SERVING.has(role) || role === 'standby' || role === 'syncing')) {
      // A stale primary: tell it the epoch so it fences itself, and ignore what it says.
      this.link!.send(NodeKind.HEARTBEAT, this.summary());
      return;
    } else if (claimsPrimary && h.epoch === mine && SERVING.has(role)) {
      // Two primaries in one epoch can only happen without an arbiter; the lower id keeps it.
      if (o.nodeId > h.from) return void this.actor.send({ type: 'HIGHER_EPOCH', epoch: h.epoch, from: h.from });
      return;
    }

    switch (m.kind) {
      case NodeKind.HELLO:
      case NodeKind.HEARTBEAT:
        if (role === 'negotiating') this.decide(m.header);
        else if (role === 'standby' && m.header.role === 'solo') this.actor.send({ type: 'RESYNC', reason: `primary ${h.from} runs solo: rejoining` });
        else if (role === 'standby' && m.kind === NodeKind.HEARTBEAT) {
          // The primary holds records this standby has not got, and none arrived since the
          // last heartbeat: the batch carrying them was lost and the stream went quiet.
          // Ask for them rather than wait for a next batch that may never come.
          const have = this.processor.lastSeq;
          if (m.header.lastSeq > have && have === this.seqAtLastBeat) this.follower!.askResend(have + 1, now);
          this.seqAtLastBeat = have;
        }
        return;
      case NodeKind.JOIN:
        if (SERVING.has(role)) this.replicator!.onJoin(m.header);
        return;
      // A node whose log (or epoch record) failed follows no more: it could not keep what it took.
      case NodeKind.REPLICATE:
        if ((role === 'syncing' || role === 'standby') && this.failed === null) this.follower!.onReplicate(m.header, m.payload, now);
        return;
      case NodeKind.SNAPSHOT:
        if ((role === 'syncing' || role === 'standby') && this.failed === null) void this.follower!.onSnapshot(m.header, m.payload, now).catch((err: Error) => this.fail(err));
        return;
      case NodeKind.ACK:
        // A stopping primary still counts acks: its handover waits for them.
        // An ack from a node in a newer epoch is not from our standby (it serves that epoch).
        if ((SERVING.has(role) || role === 'stopping') && h.epoch <= mine) this.replicator!.onAck(m.header);
        return;
      case NodeKind.RESEND:
        if (SERVING.has(role)) this.replicator!.onResend(m.header);
        return;
      case NodeKind.HANDOVER:
        if (role === 'standby' && h.epoch === mine && this.processor.lastSeq >= m.header.lastSeq) {
          this.actor.send({ type: 'PRIMARY_LEFT', reason: `primary ${h.from} handed over (planned switch-over)` });
        }
        return;
      default: {
        const never: never = m;
        return never;
      }
    }
  }

  /** Negotiation: the peer is up; both apply the same rule to the same facts. */
  private decide(peer: NodeSummary): void {
    if (peer.role === 'primary' || peer.role === 'solo') {
      return void this.actor.send({ type: 'DECIDED_STANDBY', reason: `peer ${peer.from} is ${peer.role} in epoch ${peer.epoch}` });
    }
    if (peer.role === 'starting' || peer.role === 'recovering' || peer.role === 'stopping') return;
    const me = { nodeId: this.o.nodeId, record: this.epochRecord, lastSeq: this.processor.lastSeq };
    const them = { nodeId: peer.from, record: { epoch: peer.epoch, role: peer.recordRole, primary: peer.primary, history: peer.history }, lastSeq: peer.lastSeq };
    const { primary, reason } = choosePrimary(me, them, this.arbiterView);
    this.actor.send(primary === this.o.nodeId ? { type: 'DECIDED_PRIMARY', reason } : { type: 'DECIDED_STANDBY', reason });
  }

  /** A syncing node follows the primary of a higher epoch: it records that before taking its records. */
  private async adopt(epoch: number, primary: string): Promise<void> {
    if (epoch <= this.epochRecord.epoch) return;
    await this.saveRecord({ ...this.epochRecord, epoch, role: 'standby', primary });
  }

  /** A standby's turn: append the primary's frame unchanged, then apply its record. */
  private applyReplicated(epoch: number, seq: number, frame: Uint8Array, payloadStart: number): void {
    this.writer!.append(frame);
    // The ring stays continuous across a takeover: this node may serve these frames to a joiner later.
    this.replicator!.onFrame(seq, frame);
    this.processor.applyRecord(epoch, seq, frame.subarray(payloadStart));
    const r = this.epochRecord;
    const last = r.history[r.history.length - 1];
    if (last === undefined || last[0] < epoch) {
      // This log now holds a record of a new epoch: note where it began.
      void this.saveRecord({ ...r, epoch: Math.max(r.epoch, epoch), history: noteEpoch(r.history, epoch, seq) }).catch((err: Error) => this.fail(err));
    }
  }

  /**
   * Replaces this node's state and log with the primary's snapshot: the old log goes
   * first (after the epoch record names the new primary, so a crash in between leaves
   * an empty standby that resyncs, never a node that thinks it was primary).
   */
  private async installSnapshot(seq: number, epoch: number, body: Uint8Array, history: [number, number][]): Promise<void> {
    const { o } = this;
    const image = decodeSnapshot(body);
    const old = this.processor.lastSeq;
    await this.writer!.idle();
    await this.writer!.close();
    // First a record with no history: a crash before the old log is gone must not leave
    // that log under the primary's history (it would pass for agreeing with it on rejoin).
    await this.saveRecord({ epoch: Math.max(this.epochRecord.epoch, epoch), role: 'standby', primary: o.peerId!, history: [] });
    for (const name of await o.logStorage.list()) {
      if (name.endsWith('.log') || name.endsWith('.snap')) await o.logStorage.remove(name);
    }
    await writeSnapshot(o.logStorage, { seq, epoch, chunks: [body] });
    await this.saveRecord({ ...this.epochRecord, history });
    this.lastSnapshotSeq = seq;
    this.processor.packLater = true;
    this.processor.loadSnapshot(image);
    this.processor.packLater = false;
    this.packBacklog();
    this.openWriter(seq, epoch);
    this.replicator!.reset(seq + 1);
    o.log.info({ seq, replacedLastSeq: old, assets: image.assets.length }, 'installed the primary\'s snapshot; the local log starts over after it');
  }

  /** A timer, not a microtask: client and peer traffic must get the event loop between chunks. */
  private readonly pause = () => new Promise<void>((resolve) => this.o.clock.setTimeout(resolve, 0));

  /** The snapshot being encoded, shared by every caller that asks meanwhile. */
  private encoding: Promise<{ seq: number; chunks: Uint8Array[] }> | null = null;

  /**
   * The state as snapshot chunks. A background snapshot and a joiner's catch-up (or two
   * joins in a row) that overlap share one encoding: any snapshot at or after a caller's
   * request serves it (what follows comes from the log), and two would double the memory
   * and CPU of the largest thing the node builds.
   */
  private snapshotChunks(): Promise<{ seq: number; chunks: Uint8Array[] }> {
    if (this.encoding === null) {
      // Walked a slice per timer tick: no pass over every asset or id in one go.
      const walk = this.processor.beginSnapshot();
      this.encoding = encodeSnapshot(walk, this.pause)
        .then((chunks) => ({ seq: walk.seq, chunks }))
        .finally(() => (this.encoding = null));
    }
    return this.encoding;
  }

  // ---- snapshots, status, failure, stop --------------------------------------------

  private fail(err: unknown): void {
    if (this.failed !== null) return;
    this.failed = err instanceof Error ? err : new Error(String(err));
    this.processor.accepting = false;
    this.o.log.error({ err: this.failed.message }, 'the log failed: no further updates are taken (replies already sent stay valid)');
    this.o.onFailed?.(this.failed);
  }

  /**
   * Packs, a slice per timer tick, the remembered entries a recovery left unpacked
   * (DedupeTable.packLater), so that the node serves first and tidies up after.
   */
  private packBacklog(): void {
    if (this.packing) return;
    this.packing = true;
    const step = () => {
      if (this.processor.packSome(PACK_SLICE_ENTRIES)) this.o.clock.setTimeout(step, 0);
      else this.packing = false;
    };
    this.o.clock.setTimeout(step, 0);
  }

  /** Starts a background snapshot once enough records have been written since the last one. */
  private maybeSnapshot(): void {
    const every = this.o.snapshotEveryRecords;
    if (every === 0 || this.snapshotting) return;
    // The snapshot's seq must be in the log already, or a crash could leave a gap between them.
    if (this.processor.committedSeq - this.lastSnapshotSeq < every || this.processor.committedSeq > this.writtenSeq) return;
    this.snapshotting = true;
    this.snapshot().then(
      () => (this.snapshotting = false),
      (err) => {
        this.snapshotting = false;
        this.o.log.error({ err: (err as Error).message }, 'snapshot failed; the log still holds everything');
      },
    );
  }

  async snapshot(): Promise<number> {
    const { o } = this;
    const t0 = o.clock.now();
    const { seq, chunks } = await this.snapshotChunks();
    await writeSnapshot(o.logStorage, { seq, epoch: this.processor.epoch, chunks, pause: this.pause });
    this.lastSnapshotSeq = seq;
    await compact(o.logStorage, seq);
    o.log.info({ seq, ms: o.clock.now() - t0 }, 'snapshot written');
    return seq;
  }

  /**
   * The status with the digest taken a slice at a time (a digest over a million assets
   * would otherwise stall the event loop for seconds, long enough to look dead to the peer).
   */
  async statusWithDigest(): Promise<NodeStatus> {
    const d = await this.processor.digestSliced(this.pause);
    return { ...this.status(false), ...d };
  }

  /** The status; with `digest`, computed in one go (tests and the simulator; serving nodes use statusWithDigest). */
  status(digest: boolean): NodeStatus {
    const p = this.processor;
    const peerId = this.o.peerId;
    const s: NodeStatus = {
      nodeId: this.o.nodeId,
      ...this.o.statusExtras(),
      role: this.role,
      epoch: this.epochRecord.epoch,
      lastSeq: p.lastSeq,
      committedSeq: this.role === 'standby' || this.role === 'syncing' ? p.lastSeq : p.committedSeq,
      peer:
        peerId === null
          ? null
          : {
              nodeId: peerId,
              connected: this.o.clock.now() - this.lastPeerAt < this.peerTimeoutMs(),
              ...(this.peer ? { role: this.peer.role, lastSeq: this.peer.lastSeq } : {}),
            },
    };
    if (digest) Object.assign(s, p.digest());
    return s;
  }

  /** Counters and gauges for metrics and the live page (node-stats.ts); cheap, read on demand. */
  stats(): NodeStats {
    const p = this.processor;
    const role = this.role;
    return {
      role,
      epoch: this.epochRecord.epoch,
      lastSeq: p.lastSeq,
      committedSeq: role === 'standby' || role === 'syncing' ? p.lastSeq : p.committedSeq,
      writtenSeq: this.writtenSeq,
      syncedSeq: this.syncedSeq,
      standbyAckSeq: this.replicator?.mode === 'live' ? this.replicator.standbyAck : null,
      peerLastSeq: this.peer?.lastSeq ?? null,
      peerSilenceMs: this.o.peerId === null || this.lastPeerAt === Number.NEGATIVE_INFINITY ? null : this.o.clock.now() - this.lastPeerAt,
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      heartbeatMissed: this.heartbeatMissed,
      inflight: p.inflightCount,
      mailboxDepthMax: p.mailboxDepthMax(),
      assets: p.assetCount,
      dedupeIds: p.dedupeSize,
      promotions: this.promotions,
      failed: this.failed !== null,
      beatLateMaxMs: this.link === null ? null : Math.max(this.beatLateMs, this.beatLatePrevMs),
    };
  }

  private onStatus(data: Uint8Array, reply: string, json: boolean): void {
    if (reply === '') return;
    const d = decodeBody(data, json ? 'json' : 'msgpack');
    const wantDigest = d.ok && typeof d.value === 'object' && d.value !== null && (d.value as { digest?: unknown }).digest === true;
    const send = (s: NodeStatus) => this.o.transport.publish(reply, encodeBody(s, json ? 'json' : 'msgpack'), json ? { json } : undefined);
    if (!wantDigest) return send(this.status(false));
    this.statusWithDigest().then(send, (err: Error) => this.o.log.warn({ err: err.message }, 'status digest abandoned'));
  }

  /** Stops taking updates, lets every pending reply out once logged, and closes the log. */
  stop(): Promise<void> {
    if (this.stopped === null) {
      this.handingOver = this.role === 'primary' && this.replicator?.mode === 'live';
      this.stopped = new Promise<void>((resolve) => (this.resolveStopped = resolve));
      this.actor.send({ type: 'STOP', reason: 'shutdown requested' });
    }
    return this.stopped;
  }

  /**
   * Planned switch-over: wait (bounded) until the standby has acknowledged every record,
   * let those replies out, then tell it to take over at once instead of waiting for
   * missed heartbeats. Clients see only the short gap of its promotion.
   */
  private async handOver(): Promise<void> {
    const { o } = this;
    const target = this.processor.lastSeq;
    let timer: TimerHandle | null = null;
    await Promise.race([
      this.replicator!.whenAcked(target),
      new Promise<void>((resolve) => (timer = o.clock.setTimeout(resolve, 2 * this.peerTimeoutMs()))),
    ]);
    if (timer !== null) o.clock.clearTimeout(timer);
    const acked = this.replicator!.standbyAck;
    this.processor.release(Math.min(acked, this.writtenSeq));
    if (acked >= target) {
      this.link!.send(NodeKind.HANDOVER, { from: o.nodeId, epoch: this.epochRecord.epoch, lastSeq: target });
      o.log.info({ lastSeq: target, standby: o.peerId }, 'handed over to the standby');
    } else {
      o.log.warn({ lastSeq: target, acked }, 'the standby did not acknowledge everything in time: leaving without a handover (it takes over after missed heartbeats)');
    }
  }

  private async shutdown(): Promise<void> {
    const { o } = this;
    try {
      for (const s of this.clientSubs.splice(0)) s.unsubscribe();
      this.processor.accepting = false;
      // Updates admitted before this point still get their turn (deferred), then the log settles.
      await new Promise<void>((resolve) => this.o.defer(resolve));
      if (this.handingOver) await this.handOver();
      const writer = this.writer;
      if (writer !== null) {
        await writer.idle();
        await writer.sync();
        if (this.gate === 'local') this.processor.release(this.writtenSeq);
        this.sync?.stop();
        await writer.close();
      }
      if (this.heartbeatTimer !== null) o.clock.clearTimeout(this.heartbeatTimer);
      this.link?.stop();
      for (const s of this.subs.splice(0)) s.unsubscribe();
      await o.transport.flush();
    } finally {
      this.actor.send({ type: 'STOPPED' });
      this.resolveStopped?.();
      this.resolveStopped = null;
    }
  }
}
