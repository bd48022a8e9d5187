/**
 * One seeded run: a pair of real TxNodes and their clients on a simulated network,
 * clock and disks. The run has a fault phase (clients load the pair while a seeded
 * schedule crashes, restarts, pauses, partitions and starves it), then a healing
 * phase (faults off, every node back up; a node that refused to start on a corrupt
 * log is wiped and resynced by the "operator" once its peer serves) that must end with
 * every request answered and both nodes converged, and a last round of requests served.
 */
import { FAULT_NAMES, type Candidate, type CoreErrorKind, type FaultName, type FsyncPolicy } from '@txtest/cluster';
import { ArbiterStore } from './arbiter';
import { Checker, type Violation } from './checker';
import { SimClient, type ClientRequest } from './client';
import { CALM_NET, SimNetwork, type NetConfig } from './network';
import { SimNode, type NodeSettings } from './node';
import { Rng } from './prng';
import { Scheduler } from './scheduler';

export interface RunOptions {
  seed: number;
  /** Fault-phase steps (one step = stepMs of simulated time; each may start a fault). */
  steps?: number;
  stepMs?: number;
  /** Test-only breakage of the core (faults.ts). */
  faults?: readonly FaultName[];
  /** Record every event and the nodes' log lines (slower). */
  trace?: boolean;
  onTraceLine?: (line: string) => void;
  /** Simulated ms the healing phase may take before liveness fails. */
  healMsMax?: number;
  /** Chance per step that a fault starts (default 0.06). */
  faultChance?: number;
  /** Client think times to pick from, per client (default [4, 10, 30] ms). */
  thinkMs?: number[];
  /** Called with the nodes once the run ends (for debugging a seed). */
  inspect?: (nodes: readonly SimNode[]) => void;
}

export interface RunResult {
  seed: number;
  ok: boolean;
  violation: Violation | null;
  /** FNV-1a over every event and trace line: equal for equal runs. */
  traceHash: string;
  events: number;
  simMs: number;
  requests: number;
  answered: number;
  config: string;
  faultsInjected: string[];
  trace: string[] | null;
}

export async function runSeed(o: RunOptions): Promise<RunResult> {
  const w = new World(o);
  return w.run();
}

const LIVE_ROLES = new Set(['primary', 'standby']);
/** Of the fault chance per step, the part that is a lost disk (about one per default run). */
const DISK_LOSS_SHARE = 0.05;

class World {
  readonly sched = new Scheduler();
  readonly rng: Rng;
  readonly net: SimNetwork;
  readonly arbiter = new ArbiterStore();
  readonly nodes: SimNode[];
  readonly clients: SimClient[] = [];
  readonly checker: Checker;
  readonly settings: NodeSettings;
  private healing = false;
  private readonly diskPlan: Rng;
  /**
   * With `--ack received` an ok rests on the standby's memory and the primary's log until
   * the standby's own write lands: losing one node's disk and the other's memory (a crash
   * before it caught up again) is a double failure that mode does not promise to survive
   * (PAIR.md). Such runs keep the two apart: nodes that crashed (or whose writes failed),
   * and nodes whose disk was replaced, since they last caught up or served.
   */
  private readonly memoryLost = new Set<string>();
  private readonly diskLost = new Set<string>();

  private mayLose(n: SimNode, what: 'memory' | 'disk'): boolean {
    if (this.settings.ack !== 'received') return true;
    const peer = this.nodes.find((x) => x !== n)!;
    return !(what === 'memory' ? this.diskLost : this.memoryLost).has(peer.id);
  }

  private lost(n: SimNode, what: 'memory' | 'disk'): void {
    (what === 'memory' ? this.memoryLost : this.diskLost).add(n.id);
  }
  private arbiterLossP = 0;
  private readonly injected: string[] = [];
  private readonly steps: number;
  private readonly stepMs: number;
  private readonly config: string;

  constructor(private readonly o: RunOptions) {
    this.rng = new Rng(o.seed);
    if (o.trace) {
      this.sched.lines = [];
      this.sched.onLine = o.onTraceLine ?? null;
    }
    this.steps = o.steps ?? 300;
    this.stepMs = o.stepMs ?? 5;
    this.net = new SimNetwork(this.sched, this.rng.fork('net'));
    this.diskPlan = this.rng.fork('disk-loss');
    this.settings = pickSettings(this.rng.fork('config'), o.faults ?? []);
    const s = this.settings;
    this.config = `hb ${s.heartbeatIntervalMs}x${s.heartbeatMissed} fsync ${s.fsync.kind} ack ${s.ack} replies ${s.replyFrom}${s.authenticated ? ' auth' : ''} snap ${s.snapshotEveryRecords} seg ${s.segmentBytesMax} ring ${s.replicationRingBytes}${s.faults.size ? ` FAULTS ${[...s.faults].join(',')}` : ''}`;
    this.checker = new Checker(
      () => this.sched.now,
      () => this.nodes,
      s.fsync.kind === 'always',
    );
    const hooks = this.nodeHooks();
    this.nodes = ['n1', 'n2'].map(
      (id) =>
        new SimNode(
          id,
          id === 'n1' ? 'n2' : 'n1',
          this.sched,
          this.net,
          this.rng.fork(`node-${id}`),
          this.arbiter,
          () => this.arbiterLossP,
          s,
          hooks,
          o.trace === true,
        ),
    );
    const sup = this.rng.fork('supervisor');
    for (const n of this.nodes) {
      // A process that exits on a start-up error is restarted by its supervisor (systemd's Restart=on-failure).
      n.onStartFailed = () => this.sched.after(sup.int(50, 300), () => this.startNode(n), null, `supervisor restarts ${n.id}`);
    }
    this.net.observer = (from, subject, bytes) => {
      // An empty body is a node answering its peer's probe (peer-probe.ts), not a client reply.
      if (!subject.startsWith('_INBOX.') || bytes.length === 0) return;
      const n = this.nodes.find((x) => x.inc?.ep === from);
      if (n !== undefined) this.checker.onNodeReply(n, bytes);
    };
    const clientRng = this.rng.fork('clients');
    const assets = ['acct-a', 'acct-b', 'acct-c'];
    const clientHooks = {
      onBadReply: (cl: SimClient, r: ClientRequest, code: string) => this.checker.fail('bad-reply', `${cl.id} got ${code} for ${r.id}`),
    };
    for (let i = 1; i <= 3; i++)
      this.clients.push(new SimClient(`c${i}`, this.net, this.sched, clientRng.fork(`c${i}`), assets, clientRng.pick(o.thinkMs ?? [4, 10, 30]), clientHooks));
  }

  /** What the nodes tell the world: elections, serving, applied records, losses, core errors. */
  private nodeHooks(): ConstructorParameters<typeof SimNode>[8] {
    return {
      onRoleChange: (n: SimNode, from: string, to: string) => {
        if (from === 'negotiating' && to === 'promoting') this.onElected(n);
        // Caught up or serving: the node holds every acknowledged update again.
        if (to === 'standby' || to === 'primary' || to === 'solo') {
          this.memoryLost.delete(n.id);
          this.diskLost.delete(n.id);
        }
        if (to === 'primary' || to === 'solo') this.checker.onServing(n);
      },
      onApplied: (n: SimNode, seq: number, id: string) => this.checker.onApplied(n, seq, id),
      onSnapshotLoaded: (n: SimNode, seq: number) => this.checker.onSnapshotLoaded(n, seq),
      // A failed log may have lost what the node acked on receipt, even after it reached standby.
      onFailed: (n: SimNode) => this.lost(n, 'memory'),
      onCoreError: (n: SimNode, kind: CoreErrorKind, err: Error) =>
        this.checker.fail('core-error', `${n.id}: ${kind}: ${(err.stack ?? err.message).slice(0, 300)}`),
    };
  }

  private startNode(n: SimNode): void {
    n.start(() => this.checker.onIncarnation(n));
  }

  /** A decision in negotiation with the peer up and heard: the checker compares the two logs. */
  private onElected(n: SimNode): void {
    const tx = n.node!;
    const peer = this.nodes.find((x) => x !== n)!;
    const said = tx.peerSummary;
    if (!peer.up || said === null || tx.status(false).peer?.connected !== true) return;
    const me: Candidate = { nodeId: n.id, record: tx.epochRecord, lastSeq: tx.processor.lastSeq };
    const them: Candidate = {
      nodeId: said.from,
      record: { epoch: said.epoch, role: said.recordRole, primary: said.primary, history: said.history },
      lastSeq: said.lastSeq,
    };
    this.checker.onElected(n, me, them);
  }

  async run(): Promise<RunResult> {
    const { sched } = this;
    sched.trace(`seed ${this.o.seed}: ${this.config}`);
    const boot = this.rng.fork('boot');
    for (const n of this.nodes) sched.after(boot.float() * 30, () => this.startNode(n), null, `boot ${n.id}`);
    for (const c of this.clients) c.start(20 + boot.float() * 50);
    const plan = this.rng.fork('faults');
    for (let i = 0; i < this.steps; i++) sched.at(i * this.stepMs, () => this.step(plan), null, 'step');
    const faultEnd = this.steps * this.stepMs;
    let checks = 0;
    const every = () => {
      if (++checks % 2000 === 0) this.checker.checkLogs();
    };
    // A real node process exits on an unhandled rejection (Node's default): the core must leave none.
    const unhandled = (reason: unknown) => {
      const e = reason as Error;
      this.checker.fail(
        'core-error',
        `unhandled promise rejection (a node process would exit): ${e?.name}: ${e?.message} ${String(e?.stack).split('\n').slice(1, 4).join(' ')}`,
      );
    };
    process.on('unhandledRejection', unhandled);
    try {
      await sched.run(faultEnd, () => this.checker.violation !== null, every);
      if (this.checker.violation === null) await this.heal(every);
      if (this.checker.violation === null) this.checker.checkFinal(this.clients.flatMap((c) => c.requests));
    } finally {
      process.off('unhandledRejection', unhandled);
    }
    this.o.inspect?.(this.nodes);
    const requests = this.clients.flatMap((c) => c.requests);
    const v = this.checker.violation;
    if (v !== null) sched.trace(`VIOLATION ${v.invariant}: ${v.detail}`);
    return {
      seed: this.o.seed,
      ok: v === null,
      violation: v,
      traceHash: sched.hash.toString(16).padStart(8, '0'),
      events: sched.events,
      simMs: sched.now,
      requests: requests.length,
      answered: requests.filter((r) => r.answer !== null).length,
      config: this.config,
      faultsInjected: this.injected,
      trace: sched.lines,
    };
  }

  // ---- the fault phase ---------------------------------------------------------

  private note(what: string): void {
    this.injected.push(what);
    this.sched.trace(`FAULT ${what}`);
  }

  private later(ms: number, label: string, fn: () => void): void {
    this.sched.after(
      ms,
      () => {
        if (!this.healing) fn();
      },
      null,
      label,
    );
  }

  private restartLater(n: SimNode, p: Rng): void {
    if (p.chance(0.85)) this.later(p.int(20, 600), `restart ${n.id}`, () => this.startNode(n));
  }

  private step(p: Rng): void {
    if (this.healing) return;
    // Lost disks draw from a stream of their own, so that adding them left every other
    // fault of a seed where it was (and the seeds that found bugs still replay them).
    if (this.diskPlan.chance((this.o.faultChance ?? 0.06) * DISK_LOSS_SHARE)) this.diskReplaced(this.diskPlan);
    if (!p.chance(this.o.faultChance ?? 0.06)) return;
    const actions: [number, () => void][] = [
      [3, () => this.crashOne(p, false)],
      [1.5, () => this.crashOne(p, this.settings.fsync.kind === 'always')],
      [1, () => this.sigterm(p)],
      [0.7, () => this.totalCrash(p)],
      [2, () => this.pause(p)],
      [1.5, () => this.peerPartition(p)],
      [1, () => this.isolate(p)],
      [0.5, () => this.clientPartition(p)],
      [0.5, () => this.outage(p)],
      [1, () => this.diskFull(p)],
      [0.7, () => this.corrupt(p)],
      [2, () => this.chaos(p)],
      [0.5, () => this.arbiterLoss(p)],
    ];
    let total = 0;
    for (const [w] of actions) total += w;
    let x = p.float() * total;
    for (const [w, fn] of actions) {
      x -= w;
      if (x < 0) return fn();
    }
  }

  private crashOne(p: Rng, power: boolean): void {
    const up = this.nodes.filter((n) => n.up);
    if (up.length === 0) return this.startNode(p.pick(this.nodes));
    const n = p.pick(up);
    if (!this.mayLose(n, 'memory')) return;
    this.lost(n, 'memory');
    const torn = power && p.chance(0.5);
    this.note(`${power ? 'power loss' : 'crash'} ${n.id}${torn ? ' (torn write)' : ''}`);
    n.crash(power, torn);
    this.restartLater(n, p);
  }

  private sigterm(p: Rng): void {
    const up = this.nodes.filter((n) => n.up);
    if (up.length === 0) return;
    const n = p.pick(up);
    this.note(`SIGTERM ${n.id}`);
    n.stop();
    this.later(p.int(100, 800), `restart ${n.id}`, () => this.startNode(n));
  }

  private totalCrash(p: Rng): void {
    if (!this.nodes.every((n) => this.mayLose(n, 'memory'))) return;
    for (const n of this.nodes) this.lost(n, 'memory');
    const power = this.settings.fsync.kind === 'always' && p.chance(0.5);
    this.note(`total ${power ? 'power loss' : 'crash'}`);
    for (const n of this.nodes) n.crash(power, power && p.chance(0.5));
    for (const n of this.nodes) this.later(p.int(10, 700), `restart ${n.id}`, () => this.startNode(n));
  }

  private pause(p: Rng): void {
    const up = this.nodes.filter((n) => n.up);
    if (up.length === 0) return;
    const n = p.pick(up);
    const ms = p.chance(0.5) ? p.int(20, 150) : p.int(150, 700);
    this.note(`pause ${n.id} ${ms} ms`);
    n.pause(ms);
  }

  private window(ms: number, label: string, on: () => void, off: () => void): void {
    on();
    this.sched.after(
      ms,
      () => {
        off();
        this.sched.trace(`heal ${label}`);
      },
      null,
      `heal ${label}`,
    );
  }

  private peerPartition(p: Rng): void {
    const ms = p.int(30, 800);
    const dirs = p.chance(0.5) ? ['n1>n2', 'n2>n1'] : [p.pick(['n1>n2', 'n2>n1'])];
    this.note(`partition ${dirs.join(' ')} ${ms} ms`);
    this.window(
      ms,
      `partition ${dirs.join(' ')}`,
      () => dirs.forEach((d) => this.net.blocked.add(d)),
      () => dirs.forEach((d) => this.net.blocked.delete(d)),
    );
  }

  private isolate(p: Rng): void {
    const n = p.pick(this.nodes);
    const ms = p.int(30, 800);
    this.note(`isolate ${n.id} ${ms} ms`);
    this.window(
      ms,
      `isolate ${n.id}`,
      () => this.net.isolated.add(n.id),
      () => this.net.isolated.delete(n.id),
    );
  }

  private clientPartition(p: Rng): void {
    const n = p.pick(this.nodes);
    const c = p.pick(this.clients);
    const ms = p.int(30, 800);
    const dirs = [`${c.id}>${n.id}`, `${n.id}>${c.id}`];
    this.note(`partition ${c.id}<->${n.id} ${ms} ms`);
    this.window(
      ms,
      `partition ${c.id}<->${n.id}`,
      () => dirs.forEach((d) => this.net.blocked.add(d)),
      () => dirs.forEach((d) => this.net.blocked.delete(d)),
    );
  }

  private outage(p: Rng): void {
    const ms = p.int(30, 500);
    this.note(`NATS outage ${ms} ms`);
    this.window(
      ms,
      'outage',
      () => (this.net.outage = true),
      () => (this.net.outage = false),
    );
  }

  private diskFull(p: Rng): void {
    const n = p.pick(this.nodes);
    // A write that fails after the standby acked it on receipt loses that copy, as a crash does.
    if (!this.mayLose(n, 'memory')) return;
    this.lost(n, 'memory');
    const ms = p.int(10, 300);
    this.note(`disk full ${n.id} ${ms} ms`);
    this.window(
      ms,
      `disk ${n.id}`,
      () => (n.disk.full = true),
      () => (n.disk.full = false),
    );
  }

  /** Media damage on a node that is down, only while its peer holds every acknowledged update. */
  private corrupt(_rng: Rng): void {
    const down = this.nodes.filter((n) => !n.up);
    if (down.length !== 1) return;
    const n = down[0]!;
    const peer = this.nodes.find((x) => x !== n)!;
    if (!peer.up || !['primary', 'solo'].includes(peer.role)) return;
    const where = n.disk.corruptMiddle();
    if (where !== null) this.note(`corrupt ${n.id} ${where}`);
  }

  /** A lost disk: the node crashes and comes back with an empty data dir (log and epoch record gone). */
  private diskReplaced(p: Rng): void {
    const n = p.pick(this.nodes);
    if (!this.mayLose(n, 'disk')) return;
    this.lost(n, 'disk');
    this.note(`disk replaced ${n.id}`);
    n.crash(false, false);
    n.disk.wipe();
    n.refusals = [];
    this.restartLater(n, p);
  }

  private chaos(p: Rng): void {
    const ms = p.int(50, 1000);
    const cfg: NetConfig = {
      ...CALM_NET,
      latencyMeanMs: p.pick([0.25, 1, 3]),
      slowP: p.pick([0, 0.01, 0.05]),
      dropP: p.pick([0, 0.01, 0.05, 0.2]),
      dupP: p.pick([0, 0.01, 0.05]),
      reorderP: p.pick([0, 0.01, 0.05]),
    };
    this.note(`network ${JSON.stringify(cfg)} ${ms} ms`);
    this.window(
      ms,
      'network',
      () => (this.net.cfg = cfg),
      () => (this.net.cfg = CALM_NET),
    );
  }

  private arbiterLoss(p: Rng): void {
    const ms = p.int(50, 1000);
    this.note(`arbiter answers lost 50% for ${ms} ms`);
    this.window(
      ms,
      'arbiter',
      () => (this.arbiterLossP = 0.5),
      () => (this.arbiterLossP = 0),
    );
  }

  // ---- healing and liveness --------------------------------------------------------

  private async heal(every: () => void): Promise<void> {
    const { sched } = this;
    this.healing = true;
    sched.trace('HEAL: faults off, every node back up');
    this.net.cfg = CALM_NET;
    this.net.blocked.clear();
    this.net.isolated.clear();
    this.net.outage = false;
    this.arbiterLossP = 0;
    for (const n of this.nodes) n.disk.full = false;
    for (const c of this.clients) c.stopping = true;
    // A node whose log failed (full disk) is restarted by its supervisor.
    for (const n of this.nodes) {
      if (n.node?.failed) {
        sched.trace(`${n.id}: operator restarts it (its log failed)`);
        n.crash(false, false);
      }
    }
    for (const n of this.nodes) if (!n.up && n.refusals.length === 0) this.startNode(n);
    const deadline = sched.now + (this.o.healMsMax ?? 30_000);
    let lastOperator = sched.now;
    const operator = () => {
      // Every 200 ms: restart what is down; a node that refused its corrupt log is wiped and
      // resynced once its peer serves; a peer that waits for it forever is forced (--force-primary).
      if (sched.now - lastOperator < 200) return;
      lastOperator = sched.now;
      this.forceOverRefusal();
      for (const n of this.nodes) {
        if (n.up) continue;
        const peer = this.nodes.find((x) => x !== n)!;
        if (n.refusals.length === 0) {
          this.startNode(n);
          continue;
        }
        if (peer.role === 'primary' || peer.role === 'solo') {
          sched.trace(`${n.id}: operator wipes its data dir (corrupt log) and restarts it`);
          n.disk.wipe();
          n.refusals = [];
          this.startNode(n);
        } else if (peer.up && peer.role === 'negotiating' && !peer.forcePrimary && sched.now - this.healStart > 2000) {
          // What the forced node says it lacks is given up (a lost disk as well as the corrupt log).
          const missing = peer.node?.status(false).waiting?.missing ?? [];
          const gone = missing.length === 0 ? [] : this.checker.forgive(Math.min(...missing.map((m) => m.fromSeq)), peer.heldIds());
          sched.trace(`${peer.id}: operator restarts it with --force-primary (its peer's log is corrupt); gives up ${gone.length} acknowledged update(s)`);
          peer.crash(false, false);
          peer.forcePrimary = true;
          this.startNode(peer);
        }
      }
    };
    this.healStart = sched.now;
    const settled = () => this.clients.every((c) => c.idle) && this.converged();
    const stop = () => {
      operator();
      every();
      return this.checker.violation !== null || settled();
    };
    if (!(await sched.run(deadline, stop))) return this.liveness('the pair did not converge');
    for (const n of this.nodes) n.forcePrimary = false;
    // The cluster serves again: one more request per client, all answered.
    for (const c of this.clients) c.probe();
    if (!(await sched.run(deadline + 5000, stop))) return this.liveness('the last round of requests was not served');
    sched.trace('converged: every request answered, both nodes equal');
  }

  private healStart = 0;
  /** Since when both nodes have been refusing to serve (nobody holds the newest epoch), or null. */
  private refusingSince: number | null = null;

  /**
   * Both nodes up, both refusing for a second: the operator reads the refusal in status
   * and restarts the node it names with --force-primary. The checker gives up the
   * acknowledged updates the refusal listed as missing, and nothing else.
   */
  private forceOverRefusal(): void {
    const { sched } = this;
    const w = this.nodes.map((n) => (n.node !== null && n.role === 'negotiating' ? n.node.status(false).waiting : undefined));
    const refusal = w.find((x) => x?.force !== undefined);
    if (w.some((x) => x === undefined) || refusal === undefined) return void (this.refusingSince = null);
    this.refusingSince ??= sched.now;
    if (sched.now - this.refusingSince < 1000) return;
    const n = this.nodes.find((x) => x.id === refusal!.force)!;
    if (n.forcePrimary) return;
    const fromSeq = Math.min(...refusal.missing.map((m) => m.fromSeq));
    const gone = this.checker.forgive(fromSeq, n.heldIds());
    sched.trace(
      `${n.id}: operator restarts it with --force-primary (${refusal.reason}); gives up ${gone.length} acknowledged update(s) from seq ${fromSeq} on`,
    );
    n.crash(false, false);
    n.forcePrimary = true;
    this.startNode(n);
    this.refusingSince = null;
  }

  private converged(): boolean {
    const [a, b] = this.nodes as [SimNode, SimNode];
    if (a.node === null || b.node === null) return false;
    const roles = new Set([a.role, b.role]);
    if (roles.size !== 2 || ![...roles].every((r) => LIVE_ROLES.has(r))) return false;
    const pa = a.node.processor;
    const pb = b.node.processor;
    if (pa.lastSeq !== pb.lastSeq || pa.committedSeq !== pa.lastSeq || pb.committedSeq !== pb.lastSeq) return false;
    return pa.digest().digest === pb.digest().digest;
  }

  private liveness(why: string): void {
    const states = this.nodes.map((n) => {
      const p = n.node?.processor;
      return `${n.id} ${n.role}${p ? ` lastSeq ${p.lastSeq} committed ${p.committedSeq} digest ${p.digest().digest.slice(0, 8)}` : ` (${n.downReason})`}`;
    });
    const waiting = this.clients.filter((c) => !c.idle).map((c) => c.id);
    this.checker.fail(
      'convergence-liveness',
      `${why} within the healing time: ${states.join('; ')}${waiting.length ? `; clients waiting: ${waiting.join(',')}` : ''}`,
    );
  }
}

/** The run's configuration, drawn from `c` (the same draws, in the same order, for a seed). */
function pickSettings(c: Rng, faults: readonly FaultName[]): NodeSettings {
  const fsync: FsyncPolicy = c.pick([{ kind: 'always' }, { kind: 'interval', ms: 5 }, { kind: 'never' }] as FsyncPolicy[]);
  return {
    heartbeatIntervalMs: c.pick([20, 50]),
    heartbeatMissed: c.pick([3, 4, 5]),
    fsync,
    ack: fsync.kind !== 'never' && c.chance(0.3) ? 'logged' : 'received',
    snapshotEveryRecords: c.pick([0, 40, 150]),
    segmentBytesMax: c.pick([1024, 8192, 1 << 20]),
    replicationRingBytes: c.pick([1024, 32 << 20]),
    faults: new Set(faults.filter((f) => (FAULT_NAMES as readonly string[]).includes(f))),
    // Drawn last, so that every other setting of a seed stays what it was before this one existed.
    replyFrom: c.chance(0.5) || faults.includes('standby-replies-before-write') ? 'standby' : 'primary',
    // After replyFrom, for the same reason.
    authenticated: c.chance(0.5),
  };
}
