/**
 * Planned role swaps at production size: a fresh pair (private nats-server, testkit),
 * the loadgen at 1,024 in flight over a million accounts with the audit for 90 s, and
 * `txtest-admin switchover` at 40 s and again at 70 s. Prints what each switchover
 * reported (hand-over, new primary serving, old primary standby), the loadgen's
 * figures and audit, and both nodes' digests.
 * Run: npx tsx tools/bench/switchover.ts
 */
import { connect } from '@nats-io/transport-node';
import { nodeStatus, runAdmin, runLoadgen, startNatsServer, TestPair } from '@txtest/testkit';
const nats = await startNatsServer();
const pair = new TestPair({ natsUrl: nats.url });
try {
  await Promise.all([pair.start('n1'), pair.start('n2')]);
  await Promise.all([pair.waitRole('n1', 'primary'), pair.waitRole('n2', 'standby')]);
  const nc = await connect({ servers: nats.url });
  const load = runLoadgen(['--nats', nats.url, '--assets', '1000000', '--in-flight', '1024', '--batch', 'on', '--duration', '90', '--audit'], {}, 400_000);
  for (const at of [40, 70]) {
    await new Promise((r) => setTimeout(r, at === 40 ? 40_000 : 30_000));
    const s = await nodeStatus(nc, 'n1');
    const r = await runAdmin(['switchover', '--nats', nats.url]);
    console.log(`t=${at}s lastSeq ${s.lastSeq} switchover rc=${r.code}\n${r.stdout.trim()}`);
  }
  const res = await load;
  console.log(
    res.stdout
      .split('\n')
      .filter((l) => /committed|latency|errors|timeouts|retries|audit|failovers|digest/.test(l))
      .join('\n'),
    res.code,
    res.stderr.slice(-300),
  );
  const st = await Promise.all([nodeStatus(nc, 'n1', true), nodeStatus(nc, 'n2', true)]);
  console.log(st.map((x) => `${x.nodeId} ${x.role} epoch ${x.epoch} lastSeq ${x.lastSeq} digest ${x.digest}`).join('\n'));
  await nc.close();
} finally {
  await pair.close();
  await nats.stop();
}
