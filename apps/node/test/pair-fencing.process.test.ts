/**
 * A paused primary (SIGSTOP) while the standby takes over, then SIGCONT: the old
 * primary meets the higher epoch, is fenced and rejoins as standby. With the arbiter
 * on, no update is acknowledged by both sides, and the suffix the old primary dropped
 * was never acknowledged to anyone.
 */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TxClient } from '@txtest/client';
import { CreditAudit, nodeStatus, startNatsServer, TestPair, type NatsServerHandle } from '@txtest/testkit';

let nats: NatsServerHandle;
let nc: NatsConnection;
let pair: TestPair;

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
  pair = new TestPair({ natsUrl: nats.url, args: ['--cluster', 'fencing'] });
});

afterAll(async () => {
  await nc?.close();
  await pair?.close();
  await nats?.stop();
});

describe('fencing a paused primary', () => {
  it('SIGSTOP the primary under load, the standby takes over; after SIGCONT the old primary is fenced and rejoins; no split brain', async () => {
    await Promise.all([pair.start('n1'), pair.start('n2')]);
    await Promise.all([pair.waitRole('n1', 'primary'), pair.waitRole('n2', 'standby')]);
    const clients = [
      new TxClient(nc, { cluster: 'fencing', attemptTimeoutMs: 300, deadlineMs: 60_000 }),
      new TxClient(nc, { cluster: 'fencing', batching: false, attemptTimeoutMs: 300, deadlineMs: 60_000 }),
    ];
    const audit = new CreditAudit();
    let stop = false;
    const load = Promise.all(
      clients.flatMap((c, ci) =>
        Array.from({ length: 8 }, async (_, w) => {
          for (let i = 0; !stop; i++) {
            const asset = `f${(i * 3 + w + ci) % 17}`;
            const id = c.newId();
            const reply = await c.update({ id, asset, op: 'credit', args: { amount: 1 }, model: 'account' });
            audit.record({ id, asset, amount: 1, reply });
          }
        }),
      ),
    );
    await audit.whenAcked(500);
    const oldEpoch = (await nodeStatus(nc, 'n1', false, 'txtest', 'fencing')).epoch;

    await pair.kill('n1', 'SIGSTOP');
    // A paused process keeps its connection and its subscription: the peer probe finds it
    // there, and only the missed heartbeats make the standby take over.
    expect((await pair.waitRole('n2', 'promoting')).reason).toMatch(/heartbeats missed/);
    await pair.waitRole('n2', 'solo');
    const acksAtTakeover = audit.acked.length;
    await audit.whenAcked(acksAtTakeover + 300);

    const resumedAt = Date.now();
    await pair.kill('n1', 'SIGCONT');
    await pair.waitRole('n1', 'fenced', resumedAt);
    await pair.waitRole('n1', 'standby', resumedAt);
    await pair.waitRole('n2', 'primary', resumedAt);
    stop = true;
    await load;

    expect(await audit.check(clients[0]!)).toEqual([]);
    // The old primary acknowledged nothing after the new epoch began: every ack of the old
    // epoch has a seq below the first seq of the new one.
    const newEpochAcks = audit.acked.filter((a) => a.reply.epoch > oldEpoch);
    const firstNew = Math.min(...newEpochAcks.map((a) => a.reply.seq));
    expect(audit.acked.filter((a) => a.reply.epoch === oldEpoch && a.reply.seq >= firstNew)).toEqual([]);
    // What the old primary had beyond the agreed prefix was dropped on rejoin (if anything).
    const dropped = pair.node('n2').lines.find((l) => typeof l.msg === 'string' && l.msg.includes('never confirmed'));
    if (dropped !== undefined) {
      const [from, to] = String(dropped.discarded).split('..').map(Number);
      expect(audit.acked.filter((a) => a.reply.epoch === oldEpoch && a.reply.seq >= from! && a.reply.seq <= to!)).toEqual([]);
    }
    const s2 = await nodeStatus(nc, 'n2', true, 'txtest', 'fencing');
    let s1 = await nodeStatus(nc, 'n1', true, 'txtest', 'fencing');
    for (let i = 0; i < 50 && s1.appliedSeq !== s2.appliedSeq; i++) s1 = await nodeStatus(nc, 'n1', true, 'txtest', 'fencing');
    expect(s1.appliedSeq).toBe(s2.appliedSeq);
    expect(s1.digest).toBe(s2.digest);
    for (const c of clients) c.close();
  });
});
