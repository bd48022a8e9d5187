/**
 * Rejoin at size: a pair of node processes takes N account updates at 1,024 in flight
 * (failovers under that load included), then the standby loses its disk and rejoins
 * while its JOIN is replayed on the wire every 5 ms (a rejoin storm). Reports how the
 * joins during the load were served (syncs, repeated JOINs continued, syncing timeouts
 * that continued the same sync, truncations, snapshots streamed), then for the storm
 * rejoin: the time to standby, syncs started, snapshots streamed, the primary's RSS
 * before and at its peak, and whether the digests agree.
 * Run: npx tsx tools/bench/rejoin.ts [accounts=1000000]
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { TxClient } from '@txtest/client';
import { subjects, type NodeStatus } from '@txtest/protocol';
import { joinStorm, nodeStatus, rssBytes, startNatsServer, TestPair, type LogLine } from '@txtest/testkit';

const N = Number(process.argv[2] ?? 1_000_000);
if (!Number.isSafeInteger(N) || N < 1000) throw new Error(`accounts must be an integer of at least 1000, got "${process.argv[2]}"`);
const cluster = 'rejoinbench';
const rssMb = (pid: number) => rssBytes(pid) / 2 ** 20;
const count = (lines: LogLine[], prefix: string) => lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith(prefix)).length;
const statuses = (digest = false) => Promise.all(['n1', 'n2'].map((id) => nodeStatus(nc, id, digest, 'txtest', cluster, 30_000)));

const nats = await startNatsServer();
const nc = await connect({ servers: nats.url, noAsyncTraces: true });
const pair = new TestPair({
  natsUrl: nats.url,
  args: [
    '--cluster',
    cluster,
    '--snapshot-every',
    String(Math.max(10_000, N / 4)),
    '--segment-bytes',
    String(8 << 20),
    '--replication-ring-bytes',
    String(1 << 20),
  ],
});
try {
  await Promise.all([pair.start('n1'), pair.start('n2')]);
  await Promise.all([pair.waitRole('n1', 'primary'), pair.waitRole('n2', 'standby')]);
  const client = new TxClient(nc, { cluster, attemptTimeoutMs: 2000, deadlineMs: 120_000 });
  const t0 = Date.now();
  for (let i = 0; i < N; i += 1024) {
    await Promise.all(
      Array.from({ length: Math.min(1024, N - i) }, (_, k) =>
        client.update({ id: client.newId(), asset: `a-${i + k}`, op: 'credit', args: { amount: 1 }, model: 'account' }),
      ),
    );
  }
  const loadMs = Date.now() - t0;
  // Failovers under the load leave a rejoin running: wait until it is done.
  let st: NodeStatus[] = await statuses();
  const tSettle = Date.now();
  while (!(st.some((x) => x.role === 'primary') && st.some((x) => x.role === 'standby'))) {
    if (Date.now() - tSettle > 240_000) throw new Error(`the pair never settled: ${st.map((x) => `${x.nodeId} ${x.role}`).join(', ')}`);
    await new Promise((r) => setTimeout(r, 200));
    st = await statuses();
  }
  const during = [...pair.node('n1').lines, ...pair.node('n2').lines];
  console.log(
    JSON.stringify({
      accounts: N,
      loadMs,
      settleMs: Date.now() - tSettle,
      failovers: during.filter((l) => l.to === 'promoting' && (l.from === 'primary' || l.from === 'standby')).length,
      syncsStarted: count(during, 'sync started'),
      repeatedJoins: count(during, 'standby repeated'),
      syncingTimeouts: during.filter((l) => l.from === 'syncing' && l.to === 'negotiating').length,
      syncsContinued: count(during, 'syncing again'),
      truncations: count(during, 'dropped records never confirmed'),
      snapshotsStreamed: count(during, 'streaming the newest'),
    }),
  );

  const p = st.find((x) => x.role === 'primary')!.nodeId;
  const j = p === 'n1' ? 'n2' : 'n1';
  await pair.kill(j);
  // By status, not by log line: a stall of the standby just before the kill may have made it solo already.
  // A status request may time out while a loaded primary collects a large heap: ask again.
  while ((await nodeStatus(nc, p, false, 'txtest', cluster).catch(() => null))?.role !== 'solo') await new Promise((r) => setTimeout(r, 50));
  rmSync(join(pair.dir, j), { recursive: true, force: true });
  const pid = pair.node(p).pid;
  const before = rssMb(pid);
  const storm = joinStorm(nc, subjects('txtest', cluster).node(p));
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 20);
  const t1 = Date.now();
  try {
    await pair.start(j);
    await pair.waitRole(j, 'standby', t1, 300_000);
  } finally {
    storm.stop();
    clearInterval(sampler);
  }
  const tookMs = Date.now() - t1;
  const lines = pair.node(p).lines.filter((l) => (l.time as number) >= t1);
  const [a, b] = await statuses(true);
  console.log(
    JSON.stringify({
      stormRejoinMs: tookMs,
      joinReplays: storm.replays,
      syncsStarted: count(lines, 'sync started'),
      repeatedJoins: count(lines, 'standby repeated'),
      snapshotsStreamed: count(lines, 'streaming the newest'),
      snapshotBytes: lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('streaming the newest'))?.bytes ?? 0,
      joinerSyncingTimeouts: pair.node(j).lines.filter((l) => l.from === 'syncing' && l.to === 'negotiating').length,
      primaryRssMb: { before: Math.round(before), peak: Math.round(peak) },
      digestsEqual: a!.digest === b!.digest && a!.appliedSeq === b!.appliedSeq,
    }),
  );
  client.close();
} finally {
  await nc.close();
  await pair.close();
  await nats.stop();
}
