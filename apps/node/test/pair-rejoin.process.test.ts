/**
 * Rejoins at size, with real node processes (SIGKILL, SIGSTOP), tens of thousands of
 * accounts and a short heartbeat timeout:
 *
 * - a rejoin storm: a joiner with an empty disk needs the primary's snapshot (the log
 *   was compacted behind its snapshots and the in-memory ring is small) while its JOIN
 *   is replayed on the wire every few milliseconds, as a joiner whose stream looks
 *   silent would send it. The primary runs one sync and continues it for every repeat,
 *   its memory stays within +50% of what it was before, and the pair converges.
 * - a divergent tail: a primary holding records its standby never got is deposed (the
 *   standby restarted with --force-primary while it was stopped); resumed, it drops
 *   those records by truncating its log and takes the tail, with no snapshot, and its
 *   dedupe memory forgets their ids (a retry served by it later gets the confirmed answer).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TxClient } from '@txtest/client';
import { subjects } from '@txtest/protocol';
import { joinStorm, nodeStatus, rssBytes, startNatsServer, TestPair, type LogLine, type NatsServerHandle } from '@txtest/testkit';

let nats: NatsServerHandle;
let nc: NatsConnection;
const pairs: TestPair[] = [];
const clients: TxClient[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await nc?.close();
  await Promise.all(pairs.map((p) => p.close()));
  await nats?.stop();
});

function newPair(cluster: string, extra: string[], heartbeatMissed = 4): { pair: TestPair; client: TxClient } {
  const pair = new TestPair({
    natsUrl: nats.url,
    heartbeatIntervalMs: 25,
    heartbeatMissed,
    args: ['--cluster', cluster, '--snapshot-every', '4000', '--segment-bytes', '262144', ...extra],
  });
  pairs.push(pair);
  const client = new TxClient(nc, { cluster, attemptTimeoutMs: 1000, deadlineMs: 60_000 });
  clients.push(client);
  return { pair, client };
}

/** `count` accounts credited once each, 1000 at a time. */
async function load(client: TxClient, prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1000) {
    const n = Math.min(1000, count - i);
    await Promise.all(
      Array.from({ length: n }, (_, k) =>
        client.update({ id: client.newId(), asset: `${prefix}-${i + k}`, op: 'credit', args: { amount: 3 }, model: 'account' }),
      ),
    );
  }
}

/** Polls a node's /metrics until its log has `seq` written. */
async function untilWritten(http: string, seq: number): Promise<void> {
  for (const deadline = Date.now() + 20_000; ;) {
    const text = await (await fetch(`http://${http}/metrics`)).text();
    const written = Number(/^txtest_log_written_seq(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? -1);
    if (written >= seq) return;
    if (Date.now() > deadline) throw new Error(`the log reached seq ${written}, not ${seq}, within 20 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const withMsg = (lines: LogLine[], prefix: string) => lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith(prefix));

/** Polls both nodes' status until they report the same appliedSeq, then compares digests. */
async function expectConverged(cluster: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [a, b] = await Promise.all(['n1', 'n2'].map((id) => nodeStatus(nc, id, true, 'txtest', cluster)));
    if (a!.appliedSeq === b!.appliedSeq || Date.now() > deadline) {
      expect(b!.appliedSeq).toBe(a!.appliedSeq);
      expect(b!.digest).toBe(a!.digest);
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Which node serves now and which follows (a short timeout may have swapped them under load). */
async function roles(cluster: string): Promise<[string, string]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [a, b] = await Promise.all(['n1', 'n2'].map((id) => nodeStatus(nc, id, false, 'txtest', cluster)));
    if (a!.role === 'primary' && b!.role === 'standby') return ['n1', 'n2'];
    if (b!.role === 'primary' && a!.role === 'standby') return ['n2', 'n1'];
    if (Date.now() > deadline) throw new Error(`no primary and standby: n1 ${a!.role}, n2 ${b!.role}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('rejoins at size', () => {
  it('a rejoin storm against a large primary runs one sync, keeps its memory bounded and converges', async () => {
    const cluster = 'rjstorm';
    const { pair, client } = newPair(cluster, ['--replication-ring-bytes', '65536']);
    await Promise.all([pair.start('n1'), pair.start('n2')]);
    await Promise.all([pair.waitRole('n1', 'primary'), pair.waitRole('n2', 'standby')]);
    await load(client, 'acct', 40_000);
    const [p, j] = await roles(cluster);

    // The standby loses its disk: it comes back empty and needs everything.
    const killedAt = Date.now();
    await pair.kill(j);
    await pair.waitRole(p, 'solo', killedAt);
    rmSync(join(pair.dir, j), { recursive: true, force: true });
    // Snapshots every 4000 records, and the compaction behind them, left the log starting far past seq 1.
    const primary = pair.node(p);
    expect(withMsg(primary.lines, 'snapshot written').length).toBeGreaterThan(2);
    const before = rssBytes(primary.pid);

    // The joiner's JOIN, replayed on the wire every 5 ms until it is standby.
    const storm = joinStorm(nc, subjects('txtest', cluster).node(p));
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(primary.pid))), 10);
    const restartedAt = Date.now();
    try {
      await pair.start(j);
      await pair.waitRole(j, 'standby', restartedAt, 60_000);
      await pair.waitRole(p, 'primary', restartedAt);
    } finally {
      storm.stop();
      clearInterval(sampler);
    }

    const lines = primary.lines.filter((l) => typeof l.time === 'number' && l.time >= restartedAt);
    expect(storm.replays).toBeGreaterThan(0);
    // One sync, one snapshot file streamed; every replayed JOIN continued it.
    expect(withMsg(lines, 'sync started')).toHaveLength(1);
    expect(withMsg(lines, 'streaming the newest snapshot file')).toHaveLength(1);
    expect(withMsg(lines, 'standby repeated its JOIN').length).toBeGreaterThan(0);
    expect(withMsg(pair.node(j).lines, "installed the primary's snapshot")).toHaveLength(1);
    expect(peak).toBeLessThanOrEqual(before * 1.5);
    await expectConverged(cluster);
  });

  it('a deposed primary with a divergent tail truncates it and takes the tail, not a snapshot', async () => {
    const cluster = 'rjdiverge';
    // A longer timeout here: the scenario needs the roles to hold still under the load.
    const { pair, client } = newPair(cluster, [], 20);
    await Promise.all([pair.start('n1'), pair.start('n2')]);
    await Promise.all([pair.waitRole('n1', 'primary'), pair.waitRole('n2', 'standby')]);
    await load(client, 'acct', 30_000);
    const [p, j] = await roles(cluster);
    // Every update was answered, so the standby holds all the primary has.
    const standby = await nodeStatus(nc, j, false, 'txtest', cluster);
    const agreed = standby.lastSeq;
    expect((await nodeStatus(nc, p, false, 'txtest', cluster)).lastSeq).toBe(agreed);
    // The standby acks on receipt and writes its log just after: stopped before the
    // write, a restart would rightly hold less than it acked (seen on a busy CI disk).
    await untilWritten(standby.http, agreed);

    // The standby stops; the primary goes on writing records nobody will confirm...
    await pair.kill(j, 'SIGSTOP');
    // From a client that gives up soon: no retry of these reaches the next primary.
    const impatient = new TxClient(nc, { cluster, attemptTimeoutMs: 250, deadlineMs: 400 });
    clients.push(impatient);
    const late = Array.from({ length: 200 }, (_, k) => ({ id: client.newId(), asset: `late-${k}`, op: 'credit', args: { amount: 7 }, model: 'account' }));
    const unconfirmed = Promise.allSettled(late.map((u) => impatient.update(u)));
    for (let s = agreed; s < agreed + 100; s = (await nodeStatus(nc, p, false, 'txtest', cluster)).lastSeq) await new Promise((r) => setTimeout(r, 10));
    // ... until it stops too, and the standby comes back (without what it never read) as primary.
    await pair.kill(p, 'SIGSTOP');
    await pair.kill(j);
    const forcedAt = Date.now();
    await pair.start(j, ['--force-primary']);
    await pair.waitRole(j, 'solo', forcedAt);

    const resumedAt = Date.now();
    await pair.kill(p, 'SIGCONT');
    await pair.waitRole(p, 'fenced', resumedAt);
    await pair.waitRole(p, 'standby', resumedAt);
    await pair.waitRole(j, 'primary', resumedAt);
    // None of them was confirmed.
    expect((await unconfirmed).filter((r) => r.status === 'fulfilled')).toEqual([]);

    const newPrimary = pair.node(j).lines.filter((l) => typeof l.time === 'number' && l.time >= resumedAt);
    const plan = withMsg(newPrimary, 'standby joins with records never confirmed: it truncates them and takes the tail');
    expect(plan).toHaveLength(1);
    expect(Number(plan[0]!.agreed)).toBeGreaterThanOrEqual(agreed);
    expect(withMsg(newPrimary, 'streaming the newest snapshot file')).toEqual([]);
    const deposed = pair.node(p).lines.filter((l) => typeof l.time === 'number' && l.time >= resumedAt);
    expect(withMsg(deposed, 'dropped records never confirmed by truncating the log')).toHaveLength(1);
    expect(withMsg(deposed, "installed the primary's snapshot")).toEqual([]);
    await expectConverged(cluster);

    // The rejoined node forgot the dropped records' ids too: serving again, it runs a retry
    // of one as a new update in its new epoch, rather than answer with the outcome it
    // once computed and nobody confirmed.
    const failedOverAt = Date.now();
    await pair.kill(j);
    await pair.waitRole(p, 'solo', failedOverAt);
    const epoch = (await nodeStatus(nc, p, false, 'txtest', cluster)).epoch;
    const again = await Promise.all(late.slice(0, 20).map((u) => client.update(u)));
    expect(again.map((r) => [r.ok, r.epoch, r.version])).toEqual(again.map(() => [true, epoch, 1]));
  });
});
