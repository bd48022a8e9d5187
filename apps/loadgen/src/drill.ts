/**
 * `txtest-loadgen drill`: the failover drill. Starts a private nats-server and a pair
 * (n1, n2) with the testkit, puts them under a steady load with the audit on, and N
 * times: waits for a primary with its standby attached, SIGKILLs the primary by the pid
 * its status reports, measures the gap from the kill to the first `ok` from the new
 * primary (a reply in a higher epoch), restarts the killed node and waits until it is
 * the standby again. Then stops the load and audits (states exact, digests equal).
 * Reports each gap and the throughput dip around each kill.
 */
import { connectNats } from '@txtest/transport-nats';
import { nodeStatus, startNatsServer, TestPair, type NatsServerHandle } from '@txtest/testkit';
import { ArgError, numberFlag, parseArgs } from './args';
import { emitReport } from './output';
import { pregrow } from './pregrow';
import { absNowMs } from './recorder';
import type { DrillKill, RunReport } from './report';
import { LoadRun } from './run';

const DRILL_HELP = `Usage: txtest-loadgen drill [--kills N] [load flags]
  Starts a private nats-server and a pair n1 + n2 (testkit), loads it with the audit on,
  SIGKILLs the primary N times (restarting it each time), and reports each failover gap
  (kill to the first ok from the new primary), the throughput dip and the audit.

  --kills <n>                  primary kills [20]
  --pregrow <n>                accounts created before the load (pregrow-acct-*, one credit each),
                               so the kills happen with a large state and dedupe window [0]
  --rejoin-timeout-s <n>       how long a restarted node may take to recover, and to be standby again [20]
  --heartbeat-interval-ms <n>  the nodes' heartbeat interval [50]
  --heartbeat-missed <n>       missed heartbeats before failover [4]
  --node-arg <flag>            an extra flag for both nodes (repeatable), e.g. --node-arg=--fsync=always
  load flags as for a load run (see txtest-loadgen --help), with these defaults:
    --in-flight 16 --batch off --assets 101 --interval 250 --attempt-timeout 100
    --backoff-initial 1 --backoff-max 10 --warmup 1
  (--nats, --nodes, --duration and --audit are the drill's own)`;

const OWN = new Set(['--nats', '--nodes', '--duration', '--audit', '--prefix', '--cluster']);

export async function drill(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${DRILL_HELP}\n`);
    return 0;
  }
  let kills = 20;
  let hbMs = 50;
  let hbMissed = 4;
  let pregrowN = 0;
  let rejoinTimeoutMs = 20_000;
  const nodeArgs: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new ArgError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--kills') kills = numberFlag('kills', value(), 1, 10_000, true);
    else if (flag === '--heartbeat-interval-ms') hbMs = numberFlag('heartbeat-interval-ms', value(), 5, 100, true);
    else if (flag === '--heartbeat-missed') hbMissed = numberFlag('heartbeat-missed', value(), 1, 100, true);
    else if (flag === '--node-arg') nodeArgs.push(value());
    else if (flag === '--pregrow') pregrowN = numberFlag('pregrow', value(), 0, 100_000_000, true);
    else if (flag === '--rejoin-timeout-s') rejoinTimeoutMs = 1000 * numberFlag('rejoin-timeout-s', value(), 1, 86_400, true);
    else if (OWN.has(flag)) throw new ArgError(`${flag} is set by the drill itself (it runs its own nats-server and pair)`);
    else rest.push(argv[i]!);
  }
  const rate = rest.some((x) => x === '--rate' || x.startsWith('--rate='));
  const defaults = [...(rate ? [] : ['--in-flight', '16']), '--batch', 'off', '--assets', '101', '--interval', '250', '--attempt-timeout', '100', '--backoff-initial', '1', '--backoff-max', '10', '--warmup', '1'];
  // Validate the load flags before anything is started.
  parseArgs([...defaults, ...rest, '--nats', 'nats://127.0.0.1:4222', '--audit'], process.env, 1, 'drill');

  const nats: NatsServerHandle = await startNatsServer();
  const pair = new TestPair({ natsUrl: nats.url, heartbeatIntervalMs: hbMs, heartbeatMissed: hbMissed, args: nodeArgs });
  const nc = await connectNats({ url: nats.url }, 'txtest-loadgen-drill');
  try {
    await Promise.all([pair.start('n1'), pair.start('n2')]);
    await Promise.all([pair.waitRole('n1', 'primary'), pair.waitRole('n2', 'standby')]);
    const a = parseArgs([...defaults, ...rest, '--nats', nats.url, '--nodes', 'n1,n2', '--audit', '--duration', '1'], process.env, 1, `drill${Date.now().toString(36)}`);
    if (pregrowN > 0) await pregrow(nc, pregrowN, { prefix: a.prefix, cluster: a.cluster }, (msg) => process.stderr.write(`drill: ${msg}\n`));
    const run = new LoadRun(a, { untilStopped: true });
    await run.start();
    const agg = run.agg!;
    const done: Omit<DrillKill, 'rateBefore' | 'rateMinAfter' | 'dipPct'>[] = [];
    const intervalsPerS = Math.max(1, Math.round(1000 / a.intervalMs));
    await agg.whenComplete(agg.measureFrom + intervalsPerS);
    for (let k = 1; k <= kills; k++) {
      // Only a primary with its standby attached is killed: a node still syncing may not take over, by design.
      let primaryId: string | null = null;
      for (let polls = 0; primaryId === null; polls++) {
        const [s1, s2] = await Promise.all([nodeStatus(nc, 'n1'), nodeStatus(nc, 'n2')]);
        if (s1.role === 'primary' && s2.role === 'standby') primaryId = 'n1';
        else if (s2.role === 'primary' && s1.role === 'standby') primaryId = 'n2';
        else if (polls > 400) throw new Error(`no primary with an attached standby after ${polls} polls (n1 ${s1.role}, n2 ${s2.role})`);
        else await agg.whenComplete(agg.lastComplete() + 1);
      }
      const standbyId = primaryId === 'n1' ? 'n2' : 'n1';
      const st = await nodeStatus(nc, primaryId);
      const firstOk = agg.whenEpochAbove(st.epoch);
      const killAt = absNowMs();
      process.kill(st.pid, 'SIGKILL');
      const gapAt = await Promise.race([firstOk, new Promise<null>((r) => setTimeout(() => r(null), 30_000).unref())]);
      await pair.node(primaryId).exited;
      const restartedAt = Date.now();
      await pair.start(primaryId, [], rejoinTimeoutMs);
      await Promise.all([pair.waitRole(primaryId, 'standby', restartedAt, rejoinTimeoutMs), pair.waitRole(standbyId, 'primary', restartedAt, rejoinTimeoutMs)]);
      const gapMs = gapAt === null ? null : gapAt - killAt;
      done.push({ n: k, killed: primaryId, pid: st.pid, epoch: st.epoch, killAtS: (killAt - agg.startMs) / 1000, gapMs: gapMs === null ? null : Number(gapMs.toFixed(1)), newPrimary: standbyId });
      process.stderr.write(`drill: kill ${k}/${kills}: ${primaryId} (pid ${st.pid}, epoch ${st.epoch}) -> first ok from ${standbyId} after ${gapMs === null ? 'NONE within 30 s' : `${gapMs.toFixed(1)} ms`}\n`);
      // A steady second between kills gives the next dip its baseline.
      await agg.whenComplete(agg.lastComplete() + intervalsPerS);
    }
    const report = await run.stop();
    report.drill = drillSummary(report, done, a.intervalMs);
    emitReport(a, report);
    const missing = done.filter((d) => d.gapMs === null).length;
    if (report.audit !== null && !report.audit.clean) {
      process.stderr.write(`txtest-loadgen drill: audit FAILED with ${report.audit.violations.length} violation(s); the first: ${report.audit.violations[0]}\n`);
      return 1;
    }
    if (missing > 0) {
      process.stderr.write(`txtest-loadgen drill: ${missing} kill(s) saw no ok from a new primary within 30 s\n`);
      return 1;
    }
    return 0;
  } finally {
    await nc.close();
    await pair.close();
    await nats.stop();
  }
}

/** Gaps, and each kill's dip: the mean rate of the second before it against the lowest interval until it recovered. */
export function drillSummary(r: RunReport, kills: Omit<DrillKill, 'rateBefore' | 'rateMinAfter' | 'dipPct'>[], intervalMs: number): NonNullable<RunReport['drill']> {
  const rows = r.intervals;
  const out: DrillKill[] = kills.map((k) => {
    const before = rows.filter((x) => x.tS + x.lengthS <= k.killAtS && x.tS + x.lengthS > k.killAtS - 1);
    const rateBefore = before.length === 0 ? 0 : before.reduce((n, x) => n + x.rate, 0) / before.length;
    const windowEnd = k.killAtS + (k.gapMs ?? 1000) / 1000 + intervalMs / 1000;
    const after = rows.filter((x) => x.tS + x.lengthS > k.killAtS && x.tS < windowEnd);
    const rateMinAfter = after.length === 0 ? 0 : Math.min(...after.map((x) => x.rate));
    const dipPct = rateBefore > 0 ? Math.max(0, 100 * (1 - rateMinAfter / rateBefore)) : 0;
    return { ...k, killAtS: Number(k.killAtS.toFixed(3)), rateBefore: Math.round(rateBefore), rateMinAfter: Math.round(rateMinAfter), dipPct: Number(dipPct.toFixed(1)) };
  });
  const gaps = out.map((k) => k.gapMs).filter((g): g is number => g !== null).sort((x, y) => x - y);
  return { kills: out, worstGapMs: gaps.length === 0 ? null : gaps.at(-1)!, medianGapMs: gaps.length === 0 ? null : gaps[Math.floor(gaps.length / 2)]! };
}
