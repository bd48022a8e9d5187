/**
 * Everything a node has only because it has a peer: the link, the replicator (its side
 * as primary), the follower (its side as standby), heartbeats with stall detection,
 * negotiation, the joiner, and the dispatch of the peer's messages. A standalone node
 * has no session at all.
 */
import type { Processor, RoleEvent, RoleState, TimerHandle } from '@txtest/actors';
import { NODE_FORMAT_VERSION, NodeKind, type NodeSummary } from '@txtest/protocol';
import type { EpochKeeper } from '../epochs/epoch-keeper';
import type { Promotion } from '../epochs/promotion';
import type { FaultBehaviours } from '../faults';
import type { NodeLog } from '../log/node-log';
import { RejoinLog } from '../log/rejoin-log';
import type { CoreErrorKind, ResolvedOptions } from '../node/options';
import type { RoleDriver } from '../node/role-driver';
import type { ReplyGate } from '../serving/reply-gate';
import type { Serving } from '../serving/serving';
import { Follower } from './follower';
import { Heartbeat } from './heartbeat';
import { Joiner, syncEpochOf } from './joiner';
import { Negotiation } from './negotiation';
import { PeerDispatch } from './peer-dispatch';
import { PeerAuth } from './peer-auth';
import { PeerLink } from './peer-link';
import { PeerProbe } from './peer-probe';
import { Replicator } from './replicator';
import { publishInEncoding } from '../transport';

/** What the session needs of the rest of the node. */
export interface PairHost {
  o: ResolvedOptions;
  peerId: string;
  processor: Processor;
  epochs: EpochKeeper;
  promotion: Promotion;
  log: NodeLog;
  gate: ReplyGate;
  serving: Serving;
  faults: FaultBehaviours;
  /** Tells this process's syncs from a previous one's. */
  incarnation: string;
  /** When this process's node began: its session in authenticated peer traffic (peer-auth.ts). */
  startedAt: number;
  /** The role driver (built after the session: its actions use it). */
  driver(): RoleDriver;
  failed(): boolean;
  fail(err: unknown): void;
  coreError(kind: CoreErrorKind, err: Error, msg: string, fields?: object): void;
  /** The node has finished stopping (no more heartbeats). */
  stoppedFully(): boolean;
  /** A planned switchover is under way: the promoting standby's silence, or absence, is no failure (switchover.ts). */
  handingOver(): boolean;
}

/** The roles whose peer timer a PEER_GONE may end (the role machine's watchingPeer). */
const WATCHES_PEER: ReadonlySet<RoleState> = new Set(['primary', 'standby', 'syncing']);

export class PairSession {
  readonly link: PeerLink;
  readonly replicator: Replicator;
  readonly follower: Follower;
  readonly heartbeat: Heartbeat;
  readonly negotiation: Negotiation;
  readonly joiner: Joiner;
  readonly dispatch: PeerDispatch;
  readonly probe: PeerProbe;
  private readonly rejoin: RejoinLog;

  constructor(private readonly h: PairHost) {
    const { o } = h;
    const { wiring, snapshotter, loader } = h.log;
    this.rejoin = new RejoinLog({ storage: o.logStorage, log: o.log, processor: h.processor, epochs: h.epochs, wiring, snapshotter, loader, peerId: h.peerId });
    this.link = new PeerLink({
      transport: o.transport,
      subjects: o.subjects,
      nodeId: o.nodeId,
      peerId: h.peerId,
      clock: o.clock,
      log: o.log,
      auth: o.clusterKeys ? new PeerAuth(o.clusterKeys, h.startedAt) : null,
      onMessage: (m) => this.dispatch.onMessage(m),
      onError: (err, kind) => h.coreError('peer-message-failed', err, 'handling a node message failed', { kind, err: err.stack ?? String(err) }),
    });
    this.replicator = this.buildReplicator();
    this.follower = this.buildFollower();
    this.heartbeat = new Heartbeat({
      clock: o.clock,
      log: o.log,
      intervalMs: o.heartbeatIntervalMs,
      missed: o.heartbeatMissed,
      role: this.role,
      onBeat: (now) => this.onBeat(now),
    });
    this.dispatch = this.buildDispatch();
    this.probe = new PeerProbe({
      transport: o.transport,
      subject: o.subjects.node(h.peerId),
      clock: o.clock,
      intervalMs: o.heartbeatIntervalMs,
      timeoutMs: this.peerTimeoutMs,
      lastPeerAt: () => this.dispatch.lastPeerAt,
      watching: () => WATCHES_PEER.has(this.role()) && !h.handingOver(),
      onGone: (silentMs) =>
        this.send({ type: 'PEER_GONE', reason: `peer ${h.peerId} is gone: nobody listens on its subject after ${Math.round(silentMs)} ms of silence` }),
    });
    this.negotiation = this.buildNegotiation();
    this.joiner = this.buildJoiner();
  }

  private readonly role = (): RoleState => this.h.driver().role;
  private readonly send = (event: RoleEvent): void => this.h.driver().send(event);

  get peerTimeoutMs(): number {
    return this.heartbeat.peerTimeoutMs;
  }

  /**
   * A planned handover's wait (a stop, a switchover): until the standby has acknowledged
   * `seq`, at most two peer timeouts; resolves with what it has acknowledged by then.
   */
  async standbyAcked(seq: number): Promise<number> {
    const { clock } = this.h.o;
    let timer: TimerHandle | null = null;
    await Promise.race([this.replicator.whenAcked(seq), new Promise<void>((resolve) => (timer = clock.setTimeout(resolve, 2 * this.peerTimeoutMs)))]);
    if (timer !== null) clock.clearTimeout(timer);
    return this.replicator.standbyAck;
  }

  /** Tells the standby, which holds every record up to `lastSeq`, to take over now instead of after missed heartbeats. */
  handOver(epoch: number, lastSeq: number): void {
    this.link.send(NodeKind.HANDOVER, { from: this.h.o.nodeId, epoch, lastSeq });
  }

  /** Listens to the peer and starts the heartbeats (they run in every role: they are also how a stale node learns the epoch). */
  start(): void {
    this.link.start();
    this.heartbeat.start();
    this.probe.start();
  }

  stop(): void {
    this.probe.stop();
    this.heartbeat.stop();
    this.link.stop();
  }

  /** What this node tells its peer about itself (hello, heartbeat, join). */
  summary(): NodeSummary {
    const { h } = this;
    const r = h.epochs.record;
    return {
      from: h.o.nodeId,
      epoch: r.epoch,
      role: this.role(),
      primary: r.primary,
      recordRole: r.role,
      lastSeq: h.processor.lastSeq,
      ackSeq: this.replicator.mode === 'live' ? this.replicator.standbyAck : h.processor.committedSeq,
      history: r.history,
      ...(r.since === undefined ? {} : { since: r.since }),
      v: NODE_FORMAT_VERSION,
      ...(h.promotion.arbiterView === null ? {} : { arb: h.promotion.arbiterView.epoch }),
    };
  }

  /** Every role change (after the machine's actions ran). */
  onRoleChange(from: RoleState, to: RoleState): void {
    if (to !== 'negotiating') this.negotiation.waiting = null;
    this.joiner.onRoleChange(from, to);
  }

  /** A standby's turn: append the primary's frame unchanged, then apply its record. */
  applyReplicated(epoch: number, seq: number, frame: Uint8Array, payloadStart: number): void {
    const { h } = this;
    h.log.wiring.append(frame);
    // The ring stays continuous across a takeover: this node may serve these frames to a joiner later.
    this.replicator.onFrame(seq, frame);
    h.log.loader.apply(epoch, seq, frame.subarray(payloadStart));
    h.epochs.noteApplied(epoch, seq);
  }

  /** A log writer was opened with `lastSeq` durable. */
  onLogOpened(lastSeq: number): void {
    this.follower.syncedSeq = lastSeq;
    this.follower.writtenSeq = lastSeq;
    this.replicator.reset(lastSeq + 1);
  }

  /** The local log's watermarks moved (a standby's forwarded replies wait for its own, and so do a primary's). */
  onLogWritten(seq: number): void {
    this.follower.onWritten(seq);
    this.replicator.onLocalMark();
  }

  /** Only a follower acks its syncs (`--ack logged`); a primary's own syncs are no ack. */
  onLogSynced(seq: number): void {
    const role = this.role();
    if (role === 'standby' || role === 'syncing') this.follower.onSynced(seq);
    else this.follower.syncedSeq = seq;
  }

  /** One heartbeat; false once the node has stopped. */
  private onBeat(now: number): boolean {
    if (this.h.stoppedFully()) return false;
    this.link.send(NodeKind.HEARTBEAT, this.summary());
    const role = this.role();
    // Acks are sent when records arrive; one lost while no more come would hold the
    // primary's replies forever, so a standby repeats its watermark with each beat.
    // A syncing node too: its last ack may be what the primary waits for to take the next step.
    if (role === 'standby' || role === 'syncing') this.follower.scheduleAck();
    if (role === 'primary' || role === 'solo') this.replicator.tick(now);
    // A join that got no stream going (lost, or sent before the peer served) is sent again,
    // with the same sync id: the primary continues that sync rather than start another.
    if (role === 'syncing') this.joiner.retryIfStuck(now, this.peerTimeoutMs);
    return true;
  }

  private buildReplicator(): Replicator {
    const { h } = this;
    const { o } = h;
    return new Replicator({
      link: this.link,
      nodeId: o.nodeId,
      epoch: () => h.epochs.epoch,
      lastSeq: () => h.processor.lastSeq,
      committedSeq: () => h.processor.committedSeq,
      localMark: () => h.log.wiring.localMark(),
      localMarkIsWrite: o.fsync.kind !== 'always',
      history: () => h.epochs.record.history,
      storage: o.logStorage,
      incarnation: h.incarnation,
      writeSnapshot: async () => void (await h.log.snapshotter.snapshot()),
      // A step unanswered for a peer timeout is sent again: sooner would resend what a busy joiner is still writing.
      retryMs: o.heartbeatIntervalMs * o.heartbeatMissed,
      onAck: () => h.gate.release(),
      onLive: () => this.send({ type: 'STANDBY_ATTACHED' }),
      onError: (kind, err, msg, fields) => h.coreError(kind, err, msg, fields),
      log: o.log,
      ...(o.replicationRingBytes === undefined ? {} : { ringBytesMax: o.replicationRingBytes }),
      ...(o.syncWindowBytes === undefined ? {} : { windowBytes: o.syncWindowBytes }),
      ...(o.syncTailRecordsMax === undefined ? {} : { tailRecordsMax: o.syncTailRecordsMax }),
      ...(h.faults.skipsRejoinTruncation ? { skipRejoinTruncation: true } : {}),
    });
  }

  private buildFollower(): Follower {
    const { h } = this;
    const { o } = h;
    return new Follower({
      link: this.link,
      nodeId: o.nodeId,
      epoch: () => h.epochs.epoch,
      ack: o.ack,
      apply: (epoch, seq, frame, payloadStart) => this.applyReplicated(epoch, seq, frame, payloadStart),
      lastSeq: () => h.processor.lastSeq,
      later: (fn) => void o.clock.setTimeout(fn, 0),
      storage: o.logStorage,
      rollBack: (agreed) => this.rejoin.rollBack(agreed),
      installSnapshot: (file, seq, epoch, history) => this.rejoin.install(file, seq, epoch, history),
      onCaughtUp: () => this.send({ type: 'SYNCED' }),
      rejoin: (why) => {
        o.log.warn({ why }, 'the sync cannot go on: joining again');
        if (this.role() === 'syncing') this.joiner.start();
      },
      fail: (err) => h.fail(err),
      resendRetryMs: 2 * o.heartbeatIntervalMs,
      publishReply: (subject, body, json) => publishInEncoding(o.transport, subject, body, json),
      isStandby: () => this.role() === 'standby',
      repliesWaitFor: !h.faults.standbyRepliesWaitForLog ? 'nothing' : o.ack === 'logged' || o.fsync.kind === 'always' ? 'synced' : 'written',
      log: o.log,
    });
  }

  private buildDispatch(): PeerDispatch {
    const { h } = this;
    return new PeerDispatch({
      nodeId: h.o.nodeId,
      clock: h.o.clock,
      heartbeatIntervalMs: h.o.heartbeatIntervalMs,
      fences: h.faults.fencesOnNewerEpoch,
      follower: this.follower,
      replicator: this.replicator,
      role: this.role,
      epoch: () => h.epochs.epoch,
      lastSeq: () => h.processor.lastSeq,
      failed: h.failed,
      send: this.send,
      tellStale: () => this.link.send(NodeKind.HEARTBEAT, this.summary()),
      adopt: (epoch, primary) => void h.epochs.adopt(epoch, primary).catch((err: Error) => h.fail(err)),
      decide: (peer) => this.negotiation.decide(peer),
      fail: (err) => h.fail(err),
    });
  }

  private buildNegotiation(): Negotiation {
    const { h } = this;
    const { o } = h;
    return new Negotiation({
      nodeId: o.nodeId,
      peerId: h.peerId,
      clock: o.clock,
      log: o.log,
      arbiter: o.arbiter ?? null,
      forcePrimary: o.forcePrimary ?? false,
      notes: h.promotion,
      peerTimeoutMs: this.peerTimeoutMs,
      elect: h.faults.elect,
      candidate: () => ({ nodeId: o.nodeId, record: h.epochs.record, lastSeq: h.processor.lastSeq }),
      lastPeerAt: () => this.dispatch.lastPeerAt,
      role: this.role,
      send: this.send,
      sendToPeer: (kind) => this.link.send(kind, this.summary()),
    });
  }

  private buildJoiner(): Joiner {
    const { h } = this;
    const { o } = h;
    return new Joiner({
      nodeId: o.nodeId,
      clock: o.clock,
      log: o.log,
      storage: o.logStorage,
      follower: this.follower,
      incarnation: h.incarnation,
      stopAll: () => {
        h.serving.unserve('syncing with the primary');
        this.replicator.stopFollowing();
      },
      knownEpoch: () => syncEpochOf(h.driver().machineEpoch, h.epochs.epoch, this.dispatch.peer),
      snapshotsSettled: () => h.log.snapshotter.settled(),
      lastSeq: () => h.processor.lastSeq,
      role: this.role,
      fail: (err) => h.fail(err),
      sendJoin: (join) => this.link.send(NodeKind.JOIN, { ...this.summary(), ...join }),
    });
  }
}
