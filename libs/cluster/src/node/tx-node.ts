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
  encodeSnapshotTo,
  SNAPSHOT_BODY_HEADER_BYTES,
  loadSnapshotSliced,
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
import {
  compact,
  FRAME_OVERHEAD_BYTES,
  listSnapshots,
  LogWriter,
  recover,
  rollbackFloor,
  sealFrame,
  SNAPSHOT_HEADER_BYTES,
  SnapshotFileWriter,
  type IncomingSnapshot,
  type LogStorage,
  type Recovery,
} from '@txtest/journal';
import {
  decodeBody,
  encodeBody,
  MsgWriter,
  NodeKind,
  writeRecord,
  type NodeMessage,
  type NodeStatus,
  type NodeSummary,
  type NodeWaiting,
  type Subjects,
} from '@txtest/protocol';
import { createActor, type Actor } from 'xstate';
import type { Arbiter, ArbiterValue } from '../epochs/arbiter';
import { ClientDoor } from '../serving/client-door';
import { describeFsync, SyncPolicy, type FsyncPolicy } from '../log/durability';
import { choosePrimary, loneVerdict, noteEpoch, type ArbiterView, type Candidate, type MissingRange } from '../epochs/election';
import { EMPTY_EPOCH_RECORD, type EpochRecord, type EpochStorage } from '../epochs/epoch-store';
import { dropAckedProcessor, electByName, type Faults } from '../faults';
import type { NodeStats } from './node-stats';
import { Follower } from '../pair/follower';
import { PeerLink } from '../pair/peer-link';
import { Replicator } from '../pair/replicator';
import type { Logger, Subscription, Transport } from '../transport';

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
  /** Bytes a sync (snapshot pieces, tail batches) may have in flight beyond the joiner's ack (default 4 MiB). */
  syncWindowBytes?: number;
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
/** Events published per turn: the in-flight window of a busy client (1,024) twice over, a few milliseconds. */
const EVENTS_PER_SLICE = 2048;
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
  /**
   * The last snapshot file queued: files are written one at a time (they share the part
   * file), and a sync's rollback or install waits for them (one would write a stale file).
   */
  private snapshotRun: Promise<unknown> = Promise.resolve();
  /** Tells this process's syncs from a previous one's (the primary starts over only for a new sync id). */
  private readonly incarnation: string;
  private syncsBegun = 0;
  /** The epoch the current sync follows (a sync continues across syncing -> negotiating -> syncing in it). */
  private syncEpoch = -1;
  private syncResumable = false;
  /** What the last JOIN said about how far this node can roll back (journal's rollbackFloor). */
  private floor = 0;
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
  private arbiterView: ArbiterValue | null = null;
  /**
   * The arbiter value the election that made this node primary weighed: the promotion
   * may open an epoch over it (the election already judged that epoch), not over a newer one.
   */
  private electedOver: ArbiterValue | null = null;
  private lastPeerAt = Number.NEGATIVE_INFINITY;
  private lastAliveSentAt = Number.NEGATIVE_INFINITY;
  private negotiatingSince = 0;
  private lastJoinAt = Number.NEGATIVE_INFINITY;
  private lastArbiterReadAt = Number.NEGATIVE_INFINITY;
  /** The standby's lastSeq when the primary's previous heartbeat came. */
  private seqAtLastBeat = -1;
  /** Why this negotiating node does not serve (status and the log), null when it is not waiting. */
  private waiting: NodeWaiting | null = null;
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
    this.incarnation = o.clock.now().toString(36);
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
        incarnation: this.incarnation,
        writeSnapshot: async () => void (await this.snapshot()),
        // A step unanswered for a peer timeout is sent again: sooner would resend what a busy joiner is still writing.
        retryMs: (o.heartbeatIntervalMs ?? 50) * (o.heartbeatMissed ?? 4),
        onAck: () => this.releaseGate(),
        onLive: () => this.actor.send({ type: 'STANDBY_ATTACHED' }),
        log: o.log,
        ...(o.replicationRingBytes === undefined ? {} : { ringBytesMax: o.replicationRingBytes }),
        ...(o.syncWindowBytes === undefined ? {} : { windowBytes: o.syncWindowBytes }),
        ...(o.faults?.has('skip-rejoin-truncation') ? { skipRejoinTruncation: true } : {}),
      });
      this.follower = new Follower({
        link: this.link,
        nodeId: o.nodeId,
        epoch: () => this.epochRecord.epoch,
        ack: o.ack ?? 'received',
        apply: (epoch, seq, frame, payloadStart) => this.applyReplicated(epoch, seq, frame, payloadStart),
        lastSeq: () => this.processor.lastSeq,
        later: (fn) => void o.clock.setTimeout(fn, 0),
        storage: o.logStorage,
        rollBack: (agreed) => this.rollBack(agreed),
        installSnapshot: (file, seq, epoch, history) => this.installSnapshot(file, seq, epoch, history),
        onCaughtUp: () => this.actor.send({ type: 'SYNCED' }),
        rejoin: (why) => {
          o.log.warn({ why }, 'the sync cannot go on: joining again');
          if (this.role === 'syncing') this.startSync();
        },
        fail: (err) => this.fail(err),
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
          enterStandby: () => this.noteCaughtUp(),
          // A catch-up applied in slices may have frames left: a node that may serve next holds them all.
          leaveStandby: () => this.follower?.drain(),
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
      if (change.to !== 'negotiating') this.waiting = null;
      o.log.info({ from: change.from, to: change.to, epoch: change.epoch, reason: change.reason }, `${change.from} -> ${change.to}`);
      // A sync survives syncing -> negotiating -> syncing (its stream stalled) and nothing else.
      if (change.from === 'syncing' && change.to === 'negotiating') this.syncResumable = true;
      else if (change.to !== 'syncing') this.syncResumable = false;
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
  /** How many of `events` are published already (a long list goes out a slice per timer tick). */
  private eventsFrom = 0;
  private readonly publishEventsSoonFn = () => queueMicrotask(this.publishEventsFn);
  private readonly publishEventsFn = () => {
    const events = this.events;
    // A release of many updates at once (a standby's catch-up, the backlog after a
    // pause) would otherwise publish them all in one go: tens of milliseconds that delay
    // the heartbeat, and then a bigger backlog the next time.
    const end = Math.min(events.length, this.eventsFrom + EVENTS_PER_SLICE);
    for (let i = this.eventsFrom; i < end; i++) {
      const e = events[i]!;
      writeEventOf(this.w, e);
      this.o.transport.publish(this.eventSubject(e.asset), this.w.take());
    }
    if (end < events.length) {
      this.eventsFrom = end;
      this.o.clock.setTimeout(this.publishEventsFn, 0);
      return;
    }
    this.events = [];
    this.eventsFrom = 0;
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
    const replayed = await this.rebuild(rec);
    o.log.info(
      { snapshotSeq: this.lastSnapshotSeq, replayed, lastSeq: this.processor.lastSeq, assets: this.processor.assetCount, ms: o.clock.now() - t0 },
      'recovered from the log',
    );
    this.openWriter(this.processor.lastSeq, rec.lastEpoch);
    if (o.arbiter) this.arbiterView = (await o.arbiter.read()).value;
    const found = await o.epochStorage.load();
    this.epochRecord = found ?? EMPTY_EPOCH_RECORD;
    // A data dir found empty starts its record at once, noting the arbiter's epoch: later
    // starts can then tell an epoch this node won but never persisted (after `since`)
    // from one a replaced dir may have served in (up to `since`).
    if (found === null && o.peerId !== null) await this.saveRecord({ ...EMPTY_EPOCH_RECORD, since: this.arbiterView?.epoch ?? 0 });
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

  /** Replaces the state with a recovery's: its snapshot (loaded in slices), then the log after it. */
  private rebuild(rec: Recovery): Promise<number> {
    return this.loadUnpacked(async () => {
      if (rec.snapshot !== null) await loadSnapshotSliced(this.processor, rec.snapshot.body, this.pause);
      else this.processor.reset();
      this.lastSnapshotSeq = rec.snapshot?.seq ?? 0;
      return rec.replay(this.processor.lastSeq + 1, (epoch, seq, payload) => this.processor.applyRecord(epoch, seq, payload));
    });
  }

  /**
   * Fills the state with remembered ids left unpacked (DedupeTable.packLater: a load is a
   * pause the node waits for, and packing would lengthen it), then packs them a slice per
   * timer tick while the node serves or follows.
   */
  private async loadUnpacked<T>(fill: () => Promise<T>): Promise<T> {
    this.processor.packLater = true;
    const out = await fill();
    this.processor.packLater = false;
    this.packBacklog();
    return out;
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
    // the primary compares histories and names the agreed point in its SYNC.
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
        const weighed = this.electedOver;
        this.electedOver = null;
        const judged = weighed !== null && r.value !== null && weighed.epoch === r.value.epoch && weighed.primary === r.value.primary;
        if (r.value !== null && r.value.epoch > prev.epoch && r.value.primary !== o.nodeId && !forced && !judged) {
          this.actor.send({ type: 'PROMOTION_FAILED', reason: `the arbiter holds epoch ${r.value.epoch} by ${r.value.primary}` });
          return;
        }
        epoch = Math.max(epoch, (r.value?.epoch ?? 0) + 1);
        // Where the epoch begins goes with it, so a node lacking it can name what it lacks.
        const cas = await o.arbiter.compareAndSet(r.revision, { epoch, primary: o.nodeId, firstSeq: this.processor.lastSeq + 1 });
        if (!cas.ok) {
          const v = cas.current.value;
          this.actor.send({ type: 'PROMOTION_FAILED', reason: `lost the arbiter's compare-and-set to ${v ? `${v.primary} in epoch ${v.epoch}` : 'another writer'}` });
          return;
        }
      }
      const firstSeq = this.processor.lastSeq + 1;
      // Test-only fault: taking over from the peer with an empty dedupe memory (exactly-once lost).
      if (prev.primary !== o.nodeId && o.faults?.has('forget-dedupe-on-failover')) this.processor['dedupe'].clear();
      try {
        await this.saveRecord({ ...prev, epoch, role: 'primary', primary: o.nodeId, history: noteEpoch(prev.history, epoch, firstSeq) });
      } catch (err) {
        // The arbiter (if any) names this node in the new epoch now: a node that cannot
        // keep its epoch record must not go on to follow, and ack, the old primary.
        this.fail(err);
        throw err;
      }
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
      ...(r.since === undefined ? {} : { since: r.since }),
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
      // Worth a warning: half the peer timeout is where a busy primary starts to look
      // dead. A quarter is logged too (info), so the stalls that eat the margin are seen.
      if (lateMs > this.peerTimeoutMs() / 4) {
        const line = `event loop stalled: the heartbeat ran ${Math.round(lateMs)} ms late`;
        if (lateMs > this.peerTimeoutMs() / 2) o.log.warn({ lateMs: Math.round(lateMs), role: this.role }, line);
        else o.log.info({ lateMs: Math.round(lateMs), role: this.role }, line);
      }
      this.lastBeatAt = now;
      if (this.stopped !== null && this.resolveStopped === null) return;
      this.link!.send(NodeKind.HEARTBEAT, this.summary());
      const role = this.role;
      // Acks are sent when records arrive; one lost while no more come would hold the
      // primary's replies forever, so a standby repeats its watermark with each beat.
      // A syncing node too: its last ack may be what the primary waits for to take the next step.
      if (role === 'standby' || role === 'syncing') this.follower!.scheduleAck();
      if (SERVING.has(role)) this.replicator!.tick(now);
      // A join that got no stream going (lost, or sent before the peer served) is sent again,
      // with the same sync id: the primary continues that sync rather than start another.
      const f = this.follower!;
      if (role === 'syncing' && !f.caughtUp && !f.busy && now - f.lastStreamAt > this.peerTimeoutMs() && now - this.lastJoinAt > this.peerTimeoutMs()) this.sendJoin();
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
    if (!o.arbiter) return this.judgeAlone('off');
    // One arbiter read per peer timeout is plenty while waiting; hellos go out every interval.
    if (o.clock.now() - this.lastArbiterReadAt < this.peerTimeoutMs()) return;
    this.lastArbiterReadAt = o.clock.now();
    void o.arbiter.read().then(
      (r) => {
        this.arbiterView = r.value;
        // A peer heard while the read was out is negotiated with instead (decide).
        if (this.role === 'negotiating' && o.clock.now() - this.lastPeerAt >= this.peerTimeoutMs()) this.judgeAlone(r.value);
      },
      (err: Error) => {
        if (this.role === 'negotiating') this.waitAlone({ reason: `the arbiter cannot be read: ${err.message}`, missing: [] });
      },
    );
  }

  /** Alone: the arbiter's word and this node's log decide whether it may serve (election.ts). */
  private judgeAlone(view: ArbiterView): void {
    const verdict = loneVerdict(this.candidate(), this.o.peerId!, view);
    if (verdict.serve) this.actor.send({ type: 'DECIDED_PRIMARY', reason: verdict.reason });
    else this.waitAlone(verdict);
  }

  private waitAlone(verdict: { reason: string; missing: MissingRange[] }): void {
    this.logWaiting(`waiting for peer ${this.o.peerId}: ${verdict.reason}`, verdict.missing);
  }

  /** Status shows why this node waits; the log says it once per distinct reason. */
  private logWaiting(reason: string, missing: MissingRange[], force?: string): void {
    if (this.waiting?.reason === reason) return;
    this.waiting = { reason, missing, ...(force === undefined ? {} : { force }) };
    this.o.log.warn({ peer: this.o.peerId, epoch: this.epochRecord.epoch, lastSeq: this.processor.lastSeq, missing }, reason);
  }

  /** A new sync (a new id): what this node can roll back to is measured once its files are quiet, then the JOIN goes out. */
  private startSync(): void {
    this.unserve();
    this.replicator!.stopFollowing();
    // Back in syncing under the same primary and epoch (its stream stalled past the peer
    // timeout, a busy primary's GC): the same sync goes on, its JOIN a repeat, rather than
    // a new one that would start the transfer over. Any newer epoch is a new sync.
    const p = this.peer;
    const epoch = Math.max(this.actor.getSnapshot().context.epoch, this.epochRecord.epoch, p !== null && (p.role === 'primary' || p.role === 'solo') ? p.epoch : 0);
    const resume = this.syncResumable && !this.follower!.caughtUp && epoch === this.syncEpoch;
    this.syncResumable = false;
    if (resume) {
      this.o.log.info({ syncId: this.follower!.syncId, epoch }, 'syncing again with the same primary: continuing the sync');
      return this.sendJoin();
    }
    this.syncEpoch = epoch;
    const syncId = `${this.o.nodeId}.${this.incarnation}.${++this.syncsBegun}`;
    this.follower!.reset(syncId);
    this.lastJoinAt = this.o.clock.now();
    void this.measureFloor().then(
      () => {
        if (this.role === 'syncing' && this.follower!.syncId === syncId) this.sendJoin();
      },
      (err: Error) => this.fail(err),
    );
  }

  private async measureFloor(): Promise<void> {
    await this.snapshotRun;
    this.floor = rollbackFloor(await this.o.logStorage.list(), this.processor.lastSeq);
  }

  private sendJoin(): void {
    this.lastJoinAt = this.o.clock.now();
    this.link!.send(NodeKind.JOIN, { ...this.summary(), syncId: this.follower!.syncId, floor: this.floor });
  }

  private onPeerMessage(m: NodeMessage): void {
    const { o } = this;
    const now = o.clock.now();
    this.lastPeerAt = now;
    const role = this.role;
    const h = m.header;
    const mine = this.epochRecord.epoch;
    const claimsPrimary =
      m.kind === NodeKind.REPLICATE ||
      m.kind === NodeKind.SNAPSHOT ||
      m.kind === NodeKind.SYNC ||
      ((m.kind === NodeKind.HEARTBEAT || m.kind === NodeKind.HELLO) && (m.header.role === 'primary' || m.header.role === 'solo'));
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
        if (SERVING.has(role)) this.replicator!.onJoin(m.header, now);
        return;
      // A node whose log (or epoch record) failed follows no more: it could not keep what it took.
      case NodeKind.REPLICATE:
        if ((role === 'syncing' || role === 'standby') && this.failed === null) this.follower!.onReplicate(m.header, m.payload, now);
        return;
      case NodeKind.SNAPSHOT:
        if ((role === 'syncing' || role === 'standby') && this.failed === null) this.follower!.onSnapshot(m.header, m.payload, now);
        return;
      case NodeKind.SYNC:
        // A new plan for a standby (its tail was compacted away under a resend) replaces its
        // state: it must be syncing meanwhile, not a standby that could take over half-loaded.
        if (role === 'standby' && this.follower!.isNewPlan(m.header)) return void this.actor.send({ type: 'RESYNC', reason: `primary ${h.from} planned the sync again: catching up anew` });
        if (role === 'syncing' && this.failed === null) void this.follower!.onSync(m.header, now).catch((err: Error) => this.fail(err));
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
    const { o } = this;
    const them: Candidate = {
      nodeId: peer.from,
      record: { epoch: peer.epoch, role: peer.recordRole, primary: peer.primary, history: peer.history },
      lastSeq: peer.lastSeq,
    };
    if (peer.since !== undefined) them.record.since = peer.since;
    // Test-only fault: the election by name that let an empty disk win.
    const elect = o.faults?.has('elect-by-name') ? electByName : choosePrimary;
    const { primary, reason, refusal } = elect(this.candidate(), them, this.arbiterFacts());
    if (refusal !== null) {
      if (!o.forcePrimary) return this.logWaiting(`neither node serves: ${refusal.reason}`, refusal.missing, refusal.force);
      o.log.warn(
        { missing: refusal.missing, peer: peer.from },
        `FORCED PRIMARY: --force-primary makes this node primary over the pair's refusal (${refusal.reason}); updates acknowledged in the missing records are discarded`,
      );
      this.forcing = true;
      return void this.actor.send({ type: 'DECIDED_PRIMARY', reason: 'forced by the operator (--force-primary) over the refusal' });
    }
    if (primary === o.nodeId) this.electedOver = this.arbiterView;
    this.actor.send(primary === o.nodeId ? { type: 'DECIDED_PRIMARY', reason } : { type: 'DECIDED_STANDBY', reason });
  }

  /** This node as the election sees it. */
  private candidate(): Candidate {
    return { nodeId: this.o.nodeId, record: this.epochRecord, lastSeq: this.processor.lastSeq };
  }

  /** The arbiter's value as last read, or 'off' when the pair runs without one. */
  private arbiterFacts(): ArbiterView {
    return this.o.arbiter ? this.arbiterView : 'off';
  }

  /**
   * A syncing node follows the primary of a higher epoch: it records that before taking
   * its records, as `syncing`: it holds only part of that epoch until it catches up.
   */
  private async adopt(epoch: number, primary: string): Promise<void> {
    if (epoch <= this.epochRecord.epoch) return;
    await this.saveRecord({ ...this.epochRecord, epoch, role: 'syncing', primary });
  }

  /**
   * Caught up: from here on the primary acks nothing this node lacks, so its record may
   * say `standby`, which the election reads as "holds every update of this epoch".
   */
  private noteCaughtUp(): void {
    const r = this.epochRecord;
    if (r.role === 'standby' && r.primary === this.o.peerId) return;
    void this.saveRecord({ ...r, role: 'standby', primary: this.o.peerId! }).catch((err: Error) => this.fail(err));
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

  /** Waits until nothing writes the log or a snapshot any more, and closes the log. */
  private async quiesce(): Promise<void> {
    await this.snapshotRun;
    await this.writer!.idle();
    await this.writer!.close();
  }

  /**
   * Drops the records after `agreed` (never confirmed: the primary's log does not hold
   * them) from the log and the state: the log is cut there, snapshots beyond it are
   * deleted, and the state is rebuilt from this node's own snapshot and log up to it,
   * so the dedupe memory forgets the dropped ids too. Resolves with the seq now held.
   */
  private async rollBack(agreed: number): Promise<number> {
    const { o } = this;
    const old = this.processor.lastSeq;
    await this.snapshotRun;
    await this.writer!.idle();
    // The history first: a crash after the cut must not leave epochs the log no longer holds.
    // The primary planned on the floor this node announced; should its files have changed
    // since, and no snapshot at or below `agreed` be left to rebuild from, start from nothing.
    const to = agreed >= rollbackFloor(await o.logStorage.list(), old) ? agreed : 0;
    const r = this.epochRecord;
    // `syncing`, not `standby`: this node holds only part of the epoch until it catches up (election.ts).
    await this.saveRecord({ ...r, role: 'syncing', primary: o.peerId!, history: r.history.filter(([, first]) => first <= to) });
    await this.writer!.truncateAfter(to);
    await this.writer!.close();
    for (const s of listSnapshots(await o.logStorage.list())) if (s.seq > to) await o.logStorage.remove(s.name);
    const rec = await recover(o.logStorage, { repair: false, warn: (msg) => o.log.warn({}, msg) });
    await this.rebuild(rec);
    this.openWriter(this.processor.lastSeq, rec.lastEpoch);
    o.log.warn({ agreed, dropped: `${agreed + 1}..${old}`, lastSeq: this.processor.lastSeq }, 'dropped records never confirmed by truncating the log; state rebuilt from the own snapshot and log');
    return this.processor.lastSeq;
  }

  /**
   * Replaces this node's state and log with the primary's snapshot, received into a part
   * file and verified: the old log goes first (after the epoch record names the new
   * primary, so a crash in between leaves an empty standby that resyncs, never a node
   * that thinks it was primary), then the file takes its snapshot name and is loaded a
   * slice at a time, so heartbeats keep flowing during a large install.
   */
  private async installSnapshot(file: IncomingSnapshot, seq: number, epoch: number, history: [number, number][]): Promise<void> {
    const { o } = this;
    const old = this.processor.lastSeq;
    await this.quiesce();
    // First a record with no history: a crash before the old log is gone must not leave
    // that log under the primary's history (it would pass for agreeing with it on rejoin).
    await this.saveRecord({ ...this.epochRecord, epoch: Math.max(this.epochRecord.epoch, epoch), role: 'syncing', primary: o.peerId!, history: [] });
    for (const name of await o.logStorage.list()) {
      if (name.endsWith('.log') || name.endsWith('.snap')) await o.logStorage.remove(name);
    }
    const name = await file.place();
    await this.saveRecord({ ...this.epochRecord, history });
    this.lastSnapshotSeq = seq;
    const body = (await o.logStorage.read(name)).subarray(SNAPSHOT_HEADER_BYTES);
    const loaded = await this.loadUnpacked(() => loadSnapshotSliced(this.processor, body, this.pause));
    this.openWriter(seq, epoch);
    o.log.info({ seq, replacedLastSeq: old, assets: loaded.assets, bytes: body.length }, "installed the primary's snapshot; the local log starts over after it");
  }

  /** A timer, not a microtask: client and peer traffic must get the event loop between chunks. */
  private readonly pause = () => new Promise<void>((resolve) => this.o.clock.setTimeout(resolve, 0));

  // ---- snapshots, status, failure, stop --------------------------------------------

  private fail(err: unknown): void {
    if (this.failed !== null) return;
    this.failed = err instanceof Error ? err : new Error(String(err));
    this.processor.accepting = false;
    this.o.log.error({ err: this.failed.message }, 'the log failed: no further updates are taken (replies already sent stay valid)');
    // A standby acks on receipt: what its log could not take exists only in this process.
    // Its record must stop vouching for the epoch (election.ts reads `standby` as "holds
    // every acknowledged update"), or a restart after the primary's disk is lost would
    // serve without them (sim seed 9977). Best effort: the same disk may refuse this too.
    const r = this.epochRecord;
    if (r.role === 'standby') void this.saveRecord({ ...r, role: 'syncing' }).catch(() => undefined);
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
      () => {
        this.snapshotting = false;
        // Enough records may have come while it was written: the next one starts now,
        // not at the next write (which an idle node may not see for long).
        this.maybeSnapshot();
      },
      (err) => {
        this.snapshotting = false;
        this.o.log.error({ err: (err as Error).message }, 'snapshot failed; the log still holds everything');
      },
    );
  }

  /**
   * Writes a snapshot file after those already queued (a background snapshot may meet
   * one a joiner needs when there is none).
   */
  snapshot(): Promise<number> {
    const run = this.snapshotRun.then(() => this.writeSnapshotFile());
    this.snapshotRun = run.catch(() => undefined);
    return run;
  }

  private async writeSnapshotFile(): Promise<number> {
    const { o } = this;
    const t0 = o.clock.now();
    // Walked a slice per timer tick: no pass over every asset or id in one go. Each
    // chunk goes to the file as it is encoded, so the body is never held whole (holding
    // it promoted ~100 MB to the old space and cost GC pauses near the peer timeout).
    const walk = this.processor.beginSnapshot();
    const seq = walk.seq;
    let file: SnapshotFileWriter;
    try {
      file = await SnapshotFileWriter.open(o.logStorage, seq, walk.epoch, SNAPSHOT_BODY_HEADER_BYTES);
    } catch (err) {
      walk.end();
      throw err;
    }
    try {
      await file.commit(await encodeSnapshotTo(walk, this.pause, (chunk) => file.append(chunk)));
    } catch (err) {
      await file.discard();
      throw err;
    }
    this.lastSnapshotSeq = seq;
    await compact(o.logStorage, seq, 2, this.replicator?.pinnedSeq() ?? null);
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
    if (this.waiting !== null && this.role === 'negotiating') s.waiting = this.waiting;
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
      syncs: this.replicator === null ? null : { ...this.replicator.counts },
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
