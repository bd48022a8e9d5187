/**
 * One node of the simulated pair: its disk (which survives it), and the incarnation
 * that runs the real TxNode on simulated transport, clock, storage and arbiter. A crash
 * ends the incarnation at once: its timers, I/O and deliveries are dropped by the
 * scheduler, its subscriptions vanish, and whatever its code still tries (a promise
 * chain that was already resolved) reaches only dead facades.
 */
import { ClusterKeys, TxNode, type CoreErrorKind, type Faults, type FsyncPolicy, type Logger } from '@txtest/cluster';
import type { Clock, RoleState, TimerHandle } from '@txtest/actors';
import { getModel } from '@txtest/models';
import { subjects } from '@txtest/protocol';
import { SimArbiter, type ArbiterStore } from './arbiter';
import { SimDisk, SimEpochStorage, SimLogStorage } from './disk';
import { SimTransport, type Endpoint, type SimNetwork } from './network';
import type { Rng } from './prng';
import type { Owner, Scheduler } from './scheduler';

export const SUBJECTS = subjects('sim', 'pair');
const SIM_KEYS = new ClusterKeys([new TextEncoder().encode('the simulated pair shares this 32+ byte key')]);

export interface NodeSettings {
  heartbeatIntervalMs: number;
  heartbeatMissed: number;
  fsync: FsyncPolicy;
  ack: 'received' | 'logged';
  replyFrom: 'primary' | 'standby';
  /** Node-to-node messages carry a MAC (a cluster key shared by both nodes). */
  authenticated: boolean;
  snapshotEveryRecords: number;
  segmentBytesMax: number;
  replicationRingBytes: number;
  faults: Faults;
}

export interface Incarnation extends Owner {
  n: number;
  ep: Endpoint;
}

/** What the checker hears from a node's incarnation. */
export interface NodeHooks {
  onRoleChange(node: SimNode, from: RoleState, to: RoleState, epoch: number, reason: string): void;
  /** A record this node applied from its log or its primary (the replication witness). */
  onApplied(node: SimNode, seq: number, id: string, epoch: number): void;
  onSnapshotLoaded(node: SimNode, seq: number): void;
  /** The node's log (or epoch record) failed: what it acked on receipt is in its memory only. */
  onFailed(node: SimNode): void;
  /** The core reported an error that means a programmer error, not an operating one. */
  onCoreError(node: SimNode, kind: CoreErrorKind, err: Error): void;
}

/**
 * Operating errors (a failed log, a full disk: the simulator injects them) are expected;
 * anything else the core reports is one of its own exceptions caught on the way out.
 */
function isCoreBug(kind: CoreErrorKind, err: Error): boolean {
  if (kind === 'log-failed' || kind === 'snapshot-failed') return false;
  return !/JournalFailedError|ENOSPC/.test(`${err.name}: ${err.message}`);
}

export class SimNode {
  readonly disk: SimDisk;
  inc: Incarnation | null = null;
  node: TxNode | null = null;
  private incarnations = 0;
  /** Why the node is down, when it is: 'crashed', 'stopped', or a start failure. */
  downReason = 'never started';
  forcePrimary = false;
  /** Start failures because recovery refused a corrupt log (the operator must act). */
  refusals: string[] = [];
  /** Called when a start fails for another reason (the supervisor restarts it). */
  onStartFailed: (err: Error) => void = () => undefined;

  constructor(
    readonly id: string,
    readonly peerId: string,
    private readonly sched: Scheduler,
    private readonly net: SimNetwork,
    private readonly rng: Rng,
    private readonly arbiterStore: ArbiterStore,
    private readonly arbiterLossP: () => number,
    private readonly settings: NodeSettings,
    private readonly hooks: NodeHooks,
    private readonly traceLogs: boolean,
  ) {
    this.disk = new SimDisk(id, sched, rng.fork(`disk-${id}`));
  }

  get up(): boolean {
    return this.inc !== null;
  }

  get role(): RoleState | 'down' {
    return this.node === null ? 'down' : this.node.role;
  }

  /** Simulated time for one incarnation: its timers die with it. */
  private clockOf(inc: Incarnation): Clock {
    const sched = this.sched;
    return {
      now: () => sched.now,
      setTimeout: (fn: () => void, ms: number): TimerHandle => sched.after(ms, fn, inc, `timer ${inc.ep.name} ${ms}`),
      clearTimeout: (h: TimerHandle) => {
        if (h !== null && h !== undefined) sched.cancel(h as Parameters<Scheduler['cancel']>[0]);
      },
    };
  }

  /** Starts a new incarnation; false when one is running already. */
  start(onIncarnation: () => void = () => undefined): boolean {
    if (this.inc !== null) return false;
    const n = ++this.incarnations;
    const owner = { alive: true, pausedUntil: 0 };
    const inc: Incarnation = Object.assign(owner, { n, ep: { name: `${this.id}#${n}`, host: this.id, owner } });
    this.inc = inc;
    const sched = this.sched;
    const clock = this.clockOf(inc);
    const log = this.logger(inc);
    /** How the start failed, as the core reported it (the start promise rejects after). */
    let startFailure: 'journal-corrupt' | 'start-failed' = 'start-failed';
    const s = this.settings;
    const node = new TxNode({
      nodeId: this.id,
      peerId: this.peerId,
      subjects: SUBJECTS,
      transport: new SimTransport(this.net, sched, inc.ep),
      clock,
      defer: queueMicrotask,
      logStorage: new SimLogStorage(this.disk, inc),
      epochStorage: new SimEpochStorage(this.disk, inc),
      log,
      getModel,
      fsync: s.fsync,
      bodyBytesMax: 64 * 1024,
      snapshotEveryRecords: s.snapshotEveryRecords,
      segmentBytesMax: s.segmentBytesMax,
      repairLog: false,
      heartbeatIntervalMs: s.heartbeatIntervalMs,
      heartbeatMissed: s.heartbeatMissed,
      ack: s.ack,
      replyFrom: s.replyFrom,
      clusterKeys: s.authenticated ? SIM_KEYS : null,
      arbiter: new SimArbiter(this.arbiterStore, this.net, sched, this.rng.fork(`arbiter-${this.id}-${n}`), this.id, inc, this.arbiterLossP),
      forcePrimary: this.forcePrimary,
      replicationRingBytes: s.replicationRingBytes,
      statusExtras: () => ({ pid: n, http: '' }),
      onRoleChange: (c) => {
        if (!inc.alive) return;
        sched.trace(`${this.id}: ${c.from} -> ${c.to} epoch ${c.epoch} (${c.reason})`);
        this.hooks.onRoleChange(this, c.from, c.to, c.epoch, c.reason);
      },
      faults: s.faults,
      onFailed: () => {
        if (inc.alive) this.hooks.onFailed(this);
      },
      // The replication witness: every record this incarnation applies (its own turns,
      // its log's, its primary's) and every snapshot it loads.
      onApplied: (seq, id, epoch) => {
        if (inc.alive) this.hooks.onApplied(this, seq, id, epoch);
      },
      onSnapshotInstalled: (seq) => {
        if (inc.alive) this.hooks.onSnapshotLoaded(this, seq);
      },
      onCoreError: (kind, err) => {
        if (!inc.alive) return;
        if (kind === 'journal-corrupt' || kind === 'start-failed') startFailure = kind;
        else if (isCoreBug(kind, err)) this.hooks.onCoreError(this, kind, err);
      },
    });
    this.node = node;
    sched.trace(`${this.id}: start incarnation ${n}${this.forcePrimary ? ' (--force-primary)' : ''}`);
    onIncarnation();
    node.start().catch((err: Error) => {
      if (!inc.alive) return;
      sched.trace(`${this.id}: start failed: ${err.name}: ${err.message.slice(0, 160)}`);
      this.kill(`start failed (${err.name})`);
      if (startFailure === 'journal-corrupt') this.refusals.push(err.message);
      else this.onStartFailed(err);
    });
    return true;
  }

  /**
   * The records this node's state holds (seq -> request id): its log's frames, and the
   * request ids its dedupe window remembers. The window covers what its newest snapshot
   * holds, whose frames compaction removed (seed 6703: a forced node kept acknowledged
   * updates that only its snapshot had, and the checker counted them as gone); the
   * simulator's runs never outgrow the window.
   */
  heldIds(): Map<number, string> {
    const out = this.disk.ids();
    for (const row of this.node?.processor.captureSnapshot().dedupe ?? []) out.set(row[4], row[0]);
    return out;
  }

  /** The process dies now; with `power`, the machine too (unsynced writes are lost, the last one maybe torn). */
  crash(power: boolean, torn: boolean): void {
    if (this.inc === null) return;
    this.kill(power ? 'power loss' : 'crashed');
    if (power) {
      const note = this.disk.powerLoss(torn);
      if (note !== '') this.sched.trace(`${this.id}: power loss${note}`);
    }
  }

  private kill(reason: string): void {
    const inc = this.inc;
    if (inc === null) return;
    inc.alive = false;
    this.net.disconnect(inc.ep);
    this.inc = null;
    this.node = null;
    this.downReason = reason;
    this.sched.trace(`${this.id}: down (${reason})`);
  }

  /** SIGTERM: a clean stop (a primary with a live standby hands over first). */
  stop(): void {
    const node = this.node;
    if (node === null) return;
    const inc = this.inc;
    this.sched.trace(`${this.id}: SIGTERM`);
    void node.stop().then(() => {
      if (this.inc === inc) this.kill('stopped');
    });
  }

  pause(ms: number): void {
    if (this.inc === null) return;
    this.inc.pausedUntil = Math.max(this.inc.pausedUntil, this.sched.now + ms);
    this.sched.trace(`${this.id}: paused for ${ms.toFixed(1)} ms`);
  }

  private logger(inc: Incarnation): Logger {
    const line = (level: string, obj: object, msg?: string) => {
      if (!inc.alive) return;
      if (this.traceLogs) this.sched.trace(`${this.id} ${level}: ${msg ?? ''} ${JSON.stringify(obj)}`, false);
    };
    return {
      debug: (o, m) => line('debug', o, m),
      info: (o, m) => line('info', o, m),
      warn: (o, m) => line('warn', o, m),
      error: (o, m) => line('error', o, m),
    };
  }
}
