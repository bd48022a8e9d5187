/**
 * A primary whose disk fills up: its next log segment is /dev/full (every write fails
 * with ENOSPC, as on a full file system). In a pair such a node stops (exit code 1)
 * instead of lingering as a primary that can take no updates; the standby takes over
 * and every acknowledged update is still there.
 */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TxClient } from '@txtest/client';
import { segmentName } from '@txtest/journal';
import { CreditAudit, nodeStatus, startNatsServer, TestPair, type NatsServerHandle } from '@txtest/testkit';

let nats: NatsServerHandle;
let pair: TestPair;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await startNatsServer();
  // Small segments, so that the primary opens new segment files while the test runs.
  pair = new TestPair({ natsUrl: nats.url, args: ['--segment-bytes', '4096'] });
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
});

afterAll(async () => {
  await nc?.close();
  await pair?.close();
  await nats?.stop();
});

describe('a pair whose primary runs out of disk', () => {
  it('the primary stops with exit code 1, the standby takes over, no acked update is lost', async () => {
    await Promise.all([pair.start('n1'), pair.start('n2')]);
    await Promise.all([pair.waitRole('n1', 'primary'), pair.waitRole('n2', 'standby')]);
    const client = new TxClient(nc, { attemptTimeoutMs: 500, deadlineMs: 60_000 });
    const audit = new CreditAudit();
    const credit = async (i: number) => {
      const id = client.newId();
      const asset = `full-${i % 13}`;
      audit.record({ id, asset, amount: 1, reply: await client.update({ id, asset, op: 'credit', args: { amount: 1 }, model: 'account' }) });
    };
    for (let i = 0; i < 50; i++) await credit(i);

    // Every segment the primary could open next is /dev/full.
    const { lastSeq } = await nodeStatus(nc, 'n1', false);
    const logDir = join(pair.dir, 'n1', 'log');
    for (let seq = lastSeq + 1; seq <= lastSeq + 3000; seq++) symlinkSync('/dev/full', join(logDir, segmentName(seq)));

    let i = 50;
    const load = (async () => {
      for (; i < 1500; i++) await credit(i);
    })();
    expect((await pair.node('n1').waitForLog((l) => l.msg === 'the log failed: no further updates are taken (replies already sent stay valid)')).err).toMatch(
      /ENOSPC|no space/i,
    );
    expect((await pair.node('n1').exited).code).toBe(1);
    await pair.waitRole('n2', 'solo');
    await load;

    expect(await audit.check(client)).toEqual([]);
    expect(audit.acked.some((a) => a.reply.epoch > 1)).toBe(true);
    client.close();
  });
});
