/**
 * A TxTest node's core, sans-IO: this facade builds the parts and wires them together.
 * The role machine (libs/actors) is the only thing that changes the node's role; the
 * role driver feeds it events and runs its actions on the parts below. The app supplies
 * the adapters (NATS transport, file storage, clock, logger, arbiter) and the HTTP side.
 *
 *   serving/  who may submit (admission), the client door, the reply gate, events
 *   log/      the log writer, recovery into the processor, snapshots, rejoin surgery
 *   epochs/   the epoch record, the election, the promotion with the arbiter CAS
 *   pair/     the session with the peer: link, replication both ways, heartbeats,
 *             negotiation, the join, the dispatch of peer messages
 *   node/     this facade, options, the role driver, status, shutdown
 */
import type { Processor, RoleState } from '@txtest/actors';
import { JournalCorruptError } from '@txtest/journal';
import { MsgWriter, type NodeStatus, type NodeSummary } from '@txtest/protocol';
import { EpochKeeper } from '../epochs/epoch-keeper';
import type { EpochRecord } from '../epochs/epoch-store';
import type { Promotion } from '../epochs/promotion';
import { faultBehaviours, NO_FAULTS, type FaultBehaviours } from '../faults';
import { NodeLog } from '../log/node-log';
import { PairSession } from '../pair/pair-session';
import { Admission } from '../serving/admission';
import { ReplyGate } from '../serving/reply-gate';
import type { Serving } from '../serving/serving';
import type { Subscription } from '../transport';
import { buildPromotion, buildProcessor, buildServing, type NodeParts } from './assembly';
import type { NodeStats } from './node-stats';
import { asError, resolveOptions, type CoreErrorKind, type ResolvedOptions, type TxNodeOptions } from './options';
import { roleActions } from './role-actions';
import { RoleDriver } from './role-driver';
import { Shutdown } from './shutdown';
import { Switchover } from './switchover';
import { answerRollCall, answerStatus, statsOf, statusOf, type NodeView } from './status';

export * from './options';

export class TxNode {
  readonly processor: Processor;
  /** Set when the log failed: the node stops taking updates rather than ack unlogged ones. */
  failed: Error | null = null;
  private readonly o: ResolvedOptions;
  private readonly faults: FaultBehaviours;
  /** Tells this process's syncs from a previous one's (the primary starts over only for a new sync id). */
  private readonly incarnation: string;
  /** When this process's node began (its clock): its session in authenticated peer traffic. */
  private readonly startedAt: number;
  private readonly subs: Subscription[] = [];
  private readonly epochs: EpochKeeper;
  private readonly admission: Admission;
  private readonly log: NodeLog;
  private readonly gate: ReplyGate;
  private readonly serving: Serving;
  private readonly promotion: Promotion;
  private readonly pair: PairSession | null;
  private readonly driver: RoleDriver;
  private readonly shutdown: Shutdown;
  private readonly switchover: Switchover;

  constructor(options: TxNodeOptions) {
    const o = (this.o = resolveOptions(options));
    this.faults = faultBehaviours(o.faults ?? NO_FAULTS);
    this.startedAt = o.clock.now();
    this.incarnation = this.startedAt.toString(36);
    // The records' writer (events have their own: event-publisher.ts).
    const w = new MsgWriter();
    this.processor = buildProcessor(o, (epoch, seq, ts, req, model) => {
      const frame = this.log.wiring.appendTurn(epoch, seq, ts, req, model);
      this.pair?.replicator.onFrame(seq, frame);
      o.onApplied?.(seq, req.id, epoch);
    });
    this.epochs = new EpochKeeper(o.epochStorage, (err) => this.fail(err));
    this.admission = new Admission(this.processor, o.log);
    this.log = new NodeLog({
      o,
      processor: this.processor,
      w,
      pause: this.pause,
      release: () => this.onLogMoved(),
      onSynced: (seq) => this.pair?.onLogSynced(seq),
      onOpened: (lastSeq) => this.pair?.onLogOpened(lastSeq),
      pinnedSeq: () => this.pair?.replicator.pinnedSeq() ?? null,
      fail: (err) => this.fail(err),
      snapshotFailed: (err) => this.coreError('snapshot-failed', err, 'snapshot failed; the log still holds everything'),
    });
    this.gate = this.buildGate();
    const parts = this.partsView();
    this.serving = buildServing(parts);
    this.promotion = buildPromotion(parts);
    this.pair = o.peerId === null ? null : this.buildPair(o.peerId);
    const { processor, epochs, serving, admission, gate, pair, subs } = this;
    this.shutdown = new Shutdown({
      o,
      processor,
      epochs,
      wiring: this.log.wiring,
      serving,
      admission,
      gate,
      pair,
      subs,
      role: () => this.role,
      send: (e) => this.driver.send(e),
    });
    this.switchover = new Switchover({ o, processor, epochs, serving, admission, pair, keys: o.clusterKeys ?? null, role: () => this.role });
    this.driver = new RoleDriver({
      o,
      actions: roleActions({
        o,
        serving: this.serving,
        epochs: this.epochs,
        promotion: this.promotion,
        pair: this.pair,
        shutdown: this.shutdown,
        send: (e) => this.driver.send(e),
      }),
      // A primary that handed over waits to be fenced: the promoting standby's silence is no failure.
      peerSilent: () => !this.switchover.handingOver && (this.pair?.heartbeat.peerSilent() ?? true),
      recordEpoch: () => this.epochs.epoch,
      onChange: (change) => {
        if (change.from === 'primary') this.switchover.leftPrimary();
        this.pair?.onRoleChange(change.from, change.to);
        o.onRoleChange?.(change);
      },
    });
  }

  get role(): RoleState {
    return this.driver.role;
  }

  /** The epoch record as this node holds it now (the simulator's checker reads it). */
  get epochRecord(): EpochRecord {
    return this.epochs.record;
  }

  /** The peer's last hello, heartbeat or join; null standalone or before any (the simulator's checker reads it). */
  get peerSummary(): NodeSummary | null {
    return this.pair?.dispatch.peer ?? null;
  }

  /** Times this node took over as primary (for metrics). */
  get promotions(): number {
    return this.promotion.promotions;
  }

  async start(): Promise<void> {
    try {
      await this.starting();
    } catch (err) {
      const e = asError(err);
      this.o.onCoreError?.(e instanceof JournalCorruptError ? 'journal-corrupt' : 'start-failed', e);
      throw err;
    }
  }

  private async starting(): Promise<void> {
    const { o } = this;
    // Status answers from the first moment, whatever the role.
    this.subs.push(
      o.transport.subscribe(o.subjects.status(o.nodeId), (data, reply, json) =>
        answerStatus(
          o,
          { data, reply, json },
          () => this.status(false),
          () => this.statusWithDigest(),
          (body) => {
            const refusal = this.switchover.refusal(body);
            return refusal === null ? this.switchover.run() : Promise.resolve({ ok: false, error: refusal });
          },
        ),
      ),
    );
    this.subs.push(o.transport.subscribe(o.subjects.statusAll, (_data, reply, json) => answerRollCall(o, reply, json, () => this.status(false))));
    this.driver.start();
    this.driver.send({ type: 'START' });
    await this.recoverAndLoad();
    this.pair?.start();
    await o.transport.flush();
    if (this.pair !== null) this.pair.negotiation.since = o.clock.now();
    this.driver.send({ type: 'RECOVERED', epoch: this.epochs.epoch });
  }

  /** Recovery (snapshot + log replay), a writer on the log, then the epoch record. */
  private async recoverAndLoad(): Promise<void> {
    const { o } = this;
    await this.log.recover();
    if (o.arbiter) this.promotion.arbiterRead = await o.arbiter.read();
    // A paired node's empty data dir notes the arbiter's epoch (epoch-keeper.ts).
    await this.epochs.loadAtStart(o.peerId === null ? null : (this.promotion.arbiterView?.epoch ?? 0));
    const arbiter = o.arbiter ? this.promotion.arbiterView : 'off';
    const was = await this.epochs.catchUpWithLog(this.log.epochStarts, arbiter, o.nodeId);
    if (was !== null) {
      const now = this.epochs.record;
      o.log.warn(
        { was, now },
        `the log shows epochs the epoch record did not (a crash before its save): the record now says ${now.role} of epoch ${now.epoch}`,
      );
    }
    this.admission.setEpoch(Math.max(this.epochs.epoch, this.processor.epoch), 'recovered');
  }

  /** Writes a snapshot file after those already queued. */
  snapshot(): Promise<number> {
    return this.log.snapshotter.snapshot();
  }

  /** Stops taking updates, lets every pending reply out once logged, and closes the log. */
  stop(): Promise<void> {
    return this.shutdown.stop();
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
    return statusOf(this.view(), digest);
  }

  /** Counters and gauges for metrics and the live page (node-stats.ts); cheap, read on demand. */
  stats(): NodeStats {
    return statsOf(this.view());
  }

  private view(): NodeView {
    const { o, role, processor, epochs, pair, promotions, failed } = this;
    return { o, role, processor, epochs, wiring: this.log.wiring, pair, promotions, failed, door: this.serving.door, snapshotter: this.log.snapshotter };
  }

  private buildGate(): ReplyGate {
    return new ReplyGate({
      processor: this.processor,
      log: this.o.log,
      localMark: () => this.log.wiring.localMark(),
      standbyAck: () => this.pair?.replicator.standbyAck ?? 0,
      catchUpCap: () => this.pair?.replicator.catchUpCap() ?? Number.POSITIVE_INFINITY,
      waitsForStandby: this.faults.repliesWaitForStandby,
      repliesFromStandby: this.o.replyFrom === 'standby',
    });
  }

  /** A timer, not a microtask: client and peer traffic must get the event loop between chunks. */
  private readonly pause = () => new Promise<void>((resolve) => this.o.clock.setTimeout(resolve, 0));

  /** Logs an error of the core at error level, then reports it to the observer. */
  private coreError(kind: CoreErrorKind, err: Error, msg: string, fields: object = {}): void {
    this.o.log.error({ err: err.message, ...fields }, msg);
    this.o.onCoreError?.(kind, err);
  }

  private buildPair(peerId: string): PairSession {
    const { o, processor, epochs, promotion, log, gate, serving, faults, incarnation, startedAt } = this;
    return new PairSession({
      o,
      peerId,
      processor,
      epochs,
      promotion,
      log,
      gate,
      serving,
      faults,
      incarnation,
      startedAt,
      driver: () => this.driver,
      failed: () => this.failed !== null,
      fail: (err) => this.fail(err),
      coreError: (kind, err, msg, fields) => this.coreError(kind, err, msg, fields),
      stoppedFully: () => this.shutdown.finished,
      handingOver: () => this.switchover.handingOver,
    });
  }

  /** What the assembly of serving and promotion reaches of this node (late-bound where the part comes later). */
  private partsView(): NodeParts {
    return {
      o: this.o,
      processor: this.processor,
      admission: this.admission,
      epochs: this.epochs,
      gate: this.gate,
      wiring: this.log.wiring,
      faults: this.faults,
      peerEpoch: () => this.pair?.dispatch.peer?.epoch ?? 0,
      failed: () => this.failed,
      fail: (err) => this.fail(err),
      send: (e) => this.driver.send(e),
      forward: (subject, body, json) => this.pair?.replicator.forward(subject, body, json) ?? false,
    };
  }

  /** The local log's watermark moved: replies may leave (a standby's forwarded ones too). */
  private onLogMoved(): void {
    this.gate.release();
    this.pair?.onLogWritten(this.log.wiring.writtenSeq);
  }

  private fail(err: unknown): void {
    if (this.failed !== null) return;
    this.failed = asError(err);
    this.admission.setAccepting(false, 'the log failed');
    this.coreError('log-failed', this.failed, 'the log failed: no further updates are taken (replies already sent stay valid)');
    this.epochs.stopVouching();
    this.o.onFailed?.(this.failed);
  }
}
