/**
 * `txtest-loadgen drill`: the failover drill. Starts a private nats-server and a pair
 * (n1, n2) with the testkit, or one per shard with `--shards S` (s<k>-n1, s<k>-n2), puts
 * them under a steady load with the audit on, and N times: picks a shard (each round
 * of S kills takes every shard once, in a random order), waits for its primary with the standby attached, SIGKILLs the primary by the pid
 * its status reports, measures the gap from the kill to the first `ok` from the new
 * primary (a reply in a higher epoch), restarts the killed node and waits until it is
 * the standby again. Then stops the load and audits (states exact, digests equal).
 * Reports each gap and the throughput dip around each kill.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { refused, type Command, type Flag, type Values } from '@txtest/cli';
import { connectNats } from '@txtest/transport-nats';
import { nodeStatus, startNatsServer, TestPair, writeProcessLogs, type NatsServerHandle, type NodeProcess } from '@txtest/testkit';
import { loadArgs, loadFlags, TARGET_FLAGS, type LoadDefaults, type LoadgenArgs } from './args';
import { emitReport } from './output';
import { pregrow } from './pregrow';
import { absNowMs } from './recorder';
import type { DrillKill, RunReport } from './report';
import { LoadRun } from './run';

/** Short intervals and quick retries, so each failover gap is resolved to a few ms. */
const DRILL_DEFAULTS: LoadDefaults = {
  inFlight: '16',
  batch: false,
  assets: '101',
  interval: '250',
  attemptTimeout: '100',
  backoffInitial: '1',
  backoffMax: '10',
};

const DRILL_FLAGS = [
  { name: 'kills', type: 'int', min: 1, max: 10_000, default: '20', help: 'primary kills' },
  {
    name: 'pregrow',
    type: 'int',
    min: 0,
    max: 100_000_000,
    default: '0',
    help: 'accounts created before the load (pregrow-acct-*, one credit each), so the kills happen with a large state and dedupe window',
  },
  {
    name: 'rejoin-timeout-s',
    type: 'duration',
    min: 1000,
    max: 86_400_000,
    default: '20',
    help: 'how long a restarted node may take to recover, and to be standby again',
  },
  { name: 'heartbeat-interval-ms', type: 'duration', min: 5, max: 100, whole: true, default: '50', help: "the nodes' heartbeat interval" },
  { name: 'heartbeat-missed', type: 'int', min: 2, max: 100, default: '4', help: 'missed heartbeats before failover' },
  { name: 'node-arg', type: 'string', multiple: true, value: 'flag', help: 'an extra flag for both nodes, e.g. --node-arg=--fsync=always' },
  { name: 'log-dir', type: 'string', value: 'dir', help: "keep every node process's log lines there (n1-1.log, n2-1.log, n1-2.log, ...)" },
  ...loadFlags(DRILL_DEFAULTS),
  ...refused(
    'set by the drill itself (it runs its own nats-server and pair)',
    TARGET_FLAGS.map((f) => f.name),
  ),
] as const satisfies readonly Flag[];

export const DRILL_COMMAND: Command<typeof DRILL_FLAGS> = {
  prog: 'txtest-loadgen drill',
  usage: ['[--kills N] [load flags]'],
  about: [
    'Starts a private nats-server and a pair n1 + n2 (testkit), or one pair per shard with',
    '--shards S, loads it with the audit on, SIGKILLs a primary N times (of a random shard;',
    'restarting it each time), and reports each failover gap',
    '(kill to the first ok from the new primary), the throughput dip and the audit. The load',
    "flags are those of a load run (txtest-loadgen --help), with the drill's defaults below.",
  ],
  flags: DRILL_FLAGS,
};

export interface DrillPlan {
  readonly values: Values<typeof DRILL_FLAGS>;
}

/** The load the drill will run against `natsUrl`, audited, with a fresh asset tag. */
function drillLoad(v: Values<typeof DRILL_FLAGS>, natsUrl: string, tag: string): LoadgenArgs {
  return loadArgs(v, { nats: { url: natsUrl }, prefix: 'txtest', cluster: 'default', nodes: null, durationS: 1, audit: true }, DRILL_DEFAULTS, 1, tag);
}

/** Checks the drill's flags (the load's among them) before anything is started. */
export function drillPlan(values: Values<typeof DRILL_FLAGS>): DrillPlan {
  drillLoad(values, 'nats://127.0.0.1:4222', 'drill');
  return { values };
}

type KillRow = Omit<DrillKill, 'rateBefore' | 'rateMinAfter' | 'dipPct'>;
type Agg = NonNullable<LoadRun['agg']>;

export async function drill({ values: v }: DrillPlan): Promise<number> {
  const nats: NatsServerHandle = await startNatsServer();
  const pairs = Array.from(
    { length: v.shards },
    (_, index) =>
      new TestPair({
        natsUrl: nats.url,
        heartbeatIntervalMs: v['heartbeat-interval-ms'],
        heartbeatMissed: v['heartbeat-missed'],
        args: [...v['node-arg']],
        shard: { index, count: v.shards },
      }),
  );
  const nc = await connectNats({ url: nats.url }, 'txtest-loadgen-drill');
  const started: { id: string; proc: NodeProcess }[] = [];
  const start = async (pair: TestPair, id: string, timeoutMs?: number) => void started.push({ id, proc: await pair.start(id, [], timeoutMs) });
  try {
    await Promise.all(pairs.flatMap((p) => p.ids.map((id) => start(p, id))));
    await Promise.all(pairs.flatMap((p) => [p.waitRole(p.ids[0], 'primary'), p.waitRole(p.ids[1], 'standby')]));
    const a = drillLoad(v, nats.url, `drill${Date.now().toString(36)}`);
    const grow = { prefix: a.prefix, cluster: a.cluster, shards: a.shards };
    if (v.pregrow > 0) await pregrow(nc, v.pregrow, grow, (msg) => process.stderr.write(`drill: ${msg}\n`));
    const run = new LoadRun(a, { untilStopped: true });
    await run.start();
    const agg = run.agg!;
    const done: KillRow[] = [];
    const intervalsPerS = Math.max(1, Math.round(1000 / a.intervalMs));
    await agg.whenComplete(agg.measureFrom + intervalsPerS);
    const order: TestPair[] = [];
    for (let k = 1; k <= v.kills; k++) {
      // Shards in a random order, each once per round: every shard's primary is killed as soon as there are as many kills as shards.
      if (order.length === 0) order.push(...shuffled(pairs));
      const pair = order.pop()!;
      done.push(await killOnce(k, { nc, pair, agg, start: (id, t) => start(pair, id, t), rejoinTimeoutMs: v['rejoin-timeout-s'], kills: v.kills }));
      // A steady second between kills gives the next dip its baseline.
      await agg.whenComplete(agg.lastComplete() + intervalsPerS);
    }
    const report = await run.stop();
    report.drill = drillSummary(report, done, a.intervalMs);
    emitReport(a, report);
    return verdict(report, done);
  } finally {
    if (v['log-dir'] !== undefined) writeProcessLogs(v['log-dir'], started);
    await nc.close();
    await Promise.all(pairs.map((p) => p.close()));
    await nats.stop();
  }
}

function shuffled<T>(xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

interface KillContext {
  nc: NatsConnection;
  pair: TestPair;
  agg: Agg;
  start: (id: string, timeoutMs?: number) => Promise<void>;
  rejoinTimeoutMs: number;
  kills: number;
}

/** One kill: a pair's primary (with its standby attached) SIGKILLed, the gap to the first ok in a higher epoch of that pair, the restart until it is standby. */
async function killOnce(k: number, c: KillContext): Promise<KillRow> {
  const { primaryId, standbyId } = await attachedPair(c.nc, c.agg, c.pair.ids);
  const st = await nodeStatus(c.nc, primaryId);
  const shard = c.pair.shard.index;
  const firstOk = c.agg.whenEpochAbove(st.epoch, shard);
  const killAt = absNowMs();
  process.kill(st.pid, 'SIGKILL');
  const gapAt = await Promise.race([firstOk, new Promise<null>((r) => setTimeout(() => r(null), 30_000).unref())]);
  await c.pair.node(primaryId).exited;
  const restartedAt = Date.now();
  await c.start(primaryId, c.rejoinTimeoutMs);
  await Promise.all([
    c.pair.waitRole(primaryId, 'standby', restartedAt, c.rejoinTimeoutMs),
    c.pair.waitRole(standbyId, 'primary', restartedAt, c.rejoinTimeoutMs),
  ]);
  const gapMs = gapAt === null ? null : gapAt - killAt;
  process.stderr.write(
    `drill: kill ${k}/${c.kills}: ${primaryId} (pid ${st.pid}, epoch ${st.epoch}) -> first ok from ${standbyId} after ${gapMs === null ? 'NONE within 30 s' : `${gapMs.toFixed(1)} ms`}\n`,
  );
  return {
    n: k,
    shard,
    killed: primaryId,
    pid: st.pid,
    epoch: st.epoch,
    killAtS: (killAt - c.agg.startMs) / 1000,
    gapMs: gapMs === null ? null : Number(gapMs.toFixed(1)),
    newPrimary: standbyId,
  };
}

/** Waits for a primary with its standby attached: a node still syncing may not take over, by design. */
async function attachedPair(nc: NatsConnection, agg: Agg, [a, b]: readonly [string, string]): Promise<{ primaryId: string; standbyId: string }> {
  for (let polls = 0; ; polls++) {
    const [s1, s2] = await Promise.all([nodeStatus(nc, a), nodeStatus(nc, b)]);
    if (s1.role === 'primary' && s2.role === 'standby') return { primaryId: a, standbyId: b };
    if (s2.role === 'primary' && s1.role === 'standby') return { primaryId: b, standbyId: a };
    if (polls > 400) throw new Error(`no primary with an attached standby after ${polls} polls (${a} ${s1.role}, ${b} ${s2.role})`);
    await agg.whenComplete(agg.lastComplete() + 1);
  }
}

/** The drill's exit code: 1 when the audit failed or a kill saw no new primary. */
function verdict(report: RunReport, done: readonly KillRow[]): number {
  if (report.audit !== null && !report.audit.clean) {
    process.stderr.write(`txtest-loadgen drill: audit FAILED with ${report.audit.violations.length} violation(s); the first: ${report.audit.violations[0]}\n`);
    return 1;
  }
  const missing = done.filter((d) => d.gapMs === null).length;
  if (missing > 0) {
    process.stderr.write(`txtest-loadgen drill: ${missing} kill(s) saw no ok from a new primary within 30 s\n`);
    return 1;
  }
  return 0;
}

/** Gaps, and each kill's dip: the mean rate of the second before it against the lowest interval until it recovered. */
export function drillSummary(
  r: RunReport,
  kills: Omit<DrillKill, 'rateBefore' | 'rateMinAfter' | 'dipPct'>[],
  intervalMs: number,
): NonNullable<RunReport['drill']> {
  const rows = r.intervals;
  const out: DrillKill[] = kills.map((k) => {
    const before = rows.filter((x) => x.tS + x.lengthS <= k.killAtS && x.tS + x.lengthS > k.killAtS - 1);
    const rateBefore = before.length === 0 ? 0 : before.reduce((n, x) => n + x.rate, 0) / before.length;
    const windowEnd = k.killAtS + (k.gapMs ?? 1000) / 1000 + intervalMs / 1000;
    const after = rows.filter((x) => x.tS + x.lengthS > k.killAtS && x.tS < windowEnd);
    const rateMinAfter = after.length === 0 ? 0 : Math.min(...after.map((x) => x.rate));
    const dipPct = rateBefore > 0 ? Math.max(0, 100 * (1 - rateMinAfter / rateBefore)) : 0;
    return {
      ...k,
      killAtS: Number(k.killAtS.toFixed(3)),
      rateBefore: Math.round(rateBefore),
      rateMinAfter: Math.round(rateMinAfter),
      dipPct: Number(dipPct.toFixed(1)),
    };
  });
  const gaps = out
    .map((k) => k.gapMs)
    .filter((g): g is number => g !== null)
    .sort((x, y) => x - y);
  return { kills: out, worstGapMs: gaps.length === 0 ? null : gaps.at(-1)!, medianGapMs: gaps.length === 0 ? null : gaps[Math.floor(gaps.length / 2)]! };
}
