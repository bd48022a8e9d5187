/**
 * The pair under failure, with real processes: concurrent clients doing credits,
 * SIGKILL of the primary mid-load, the standby takes over, the killed node rejoins as
 * standby. Every acked update must be present exactly once, retries of acked ids must
 * return the original replies, and both nodes must end with equal digests. All of it
 * twice: with the replies published by the primary (the default) and by the standby
 * (`--reply-from standby`, chain replication).
 */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TxClient } from '@txtest/client';
import { CreditAudit, creditLoad, nodeStatus, startNatsServer, TestPair, type NatsServerHandle } from '@txtest/testkit';
import { parsePromText, valueOf } from './helpers/prom-text';

let nats: NatsServerHandle;
let pair: TestPair;
const conns: NatsConnection[] = [];

async function client(opts: ConstructorParameters<typeof TxClient>[1] = {}): Promise<TxClient> {
  const nc = await connect({ servers: nats.url, noAsyncTraces: true });
  conns.push(nc);
  return new TxClient(nc, { attemptTimeoutMs: 500, deadlineMs: 60_000, ...opts });
}

/** A node's `txtest_chain_replies` counters, from its /metrics. */
async function chainReplies(id: string): Promise<{ forwarded: number; published: number }> {
  const { http } = await nodeStatus(conns[0]!, id);
  const families = parsePromText(await (await fetch(`http://${http}/metrics`)).text());
  const kind = (k: string) => valueOf(families, 'txtest_chain_replies', { kind: k });
  return { forwarded: kind('forwarded'), published: kind('published') };
}

describe.each(['primary', 'standby'] as const)('pair: replication and failover, replies from the %s', (replyFrom) => {
  beforeAll(async () => {
    nats = await startNatsServer();
    pair = new TestPair({ natsUrl: nats.url, args: ['--reply-from', replyFrom] });
  });

  afterAll(async () => {
    await Promise.all(conns.splice(0).map((c) => c.close()));
    await pair?.close();
    await nats?.stop();
  });

  it('starts as primary (lower id, no history) and standby, and replicates', async () => {
    await Promise.all([pair.start('n1'), pair.start('n2')]);
    await Promise.all([pair.waitRole('n1', 'primary'), pair.waitRole('n2', 'standby')]);
    const c = await client();
    const r = await c.update({ asset: 'hello', op: 'credit', args: { amount: 1 }, model: 'account' });
    expect(r).toMatchObject({ ok: true, epoch: 1 });
    const [s1, s2] = await Promise.all([nodeStatus(conns[0]!, 'n1', true), nodeStatus(conns[0]!, 'n2', true)]);
    expect(s1).toMatchObject({ role: 'primary', peer: { nodeId: 'n2', connected: true } });
    expect(s2).toMatchObject({ role: 'standby', lastSeq: s1.lastSeq });
    expect(s2.digest).toBe(s1.digest);
  });

  it('each ok comes from the node --reply-from names, and a query after it reads it', async () => {
    const c = await client();
    const before = await Promise.all([chainReplies('n1'), chainReplies('n2')]);
    // Concurrent updates (batched), then each one followed by a query of its asset.
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => c.update({ asset: `ryw-${i % 20}`, op: 'credit', args: { amount: 1 }, model: 'account' })),
    );
    expect(replies.every((r) => r.ok)).toBe(true);
    for (let i = 0; i < 50; i++) {
      const r = await c.update({ asset: 'ryw-seq', op: 'credit', args: { amount: 1 }, model: 'account' });
      const q = await c.query('ryw-seq');
      expect(q).toMatchObject({ ok: true, version: (r as { version: number }).version });
    }
    const after = await Promise.all([chainReplies('n1'), chainReplies('n2')]);
    const forwarded = after[0].forwarded - before[0].forwarded;
    const published = after[1].published - before[1].published;
    if (replyFrom === 'standby') {
      // Every client message's reply went through the standby: 50 alone, the 200 in at least one batch.
      expect(forwarded).toBeGreaterThanOrEqual(51);
      expect(published).toBe(forwarded);
    } else {
      expect([forwarded, published]).toEqual([0, 0]);
    }
  });

  it('failover under load: SIGKILL of the primary loses no acked update and doubles none; the old primary rejoins as standby', async () => {
    const clients = await Promise.all([client(), client({ batching: false }), client(), client({ batching: false })]);
    const audit = new CreditAudit();
    let killed: Promise<void> | null = null;
    await creditLoad('kill', clients, 8, 3000, audit, (n) => {
      if (n === 1000 && killed === null) killed = pair.kill('n1');
    });
    await killed;
    // The killed process's connection closed, so the peer probe saw it gone before four heartbeats were missed.
    expect((await pair.waitRole('n2', 'promoting')).reason).toMatch(/^peer n1 is gone: nobody listens on its subject after \d+ ms of silence$/);
    await pair.waitRole('n2', 'solo');
    // The killed node comes back, syncs from the new primary, and becomes its standby.
    await pair.start('n1');
    await Promise.all([pair.waitRole('n1', 'standby'), pair.waitRole('n2', 'primary')]);

    const problems = await audit.check(clients[0]!);
    expect(problems).toEqual([]);
    expect(audit.acked.some((a) => a.reply.epoch > 1)).toBe(true);

    const nc = conns[0]!;
    const s2 = await nodeStatus(nc, 'n2', true);
    let s1 = await nodeStatus(nc, 'n1', true);
    // The standby acknowledges before it reports; read again until it holds the same prefix.
    for (let i = 0; i < 50 && s1.appliedSeq !== s2.appliedSeq; i++) s1 = await nodeStatus(nc, 'n1', true);
    expect(s1.appliedSeq).toBe(s2.appliedSeq);
    expect(s1.digest).toBe(s2.digest);
  });

  it('SIGTERM on a primary with a live standby hands over cleanly: no client error, the standby takes over at once', async () => {
    // After the previous test n2 is primary and n1 its standby.
    const clients = await Promise.all([client(), client({ batching: false })]);
    const audit = new CreditAudit();
    let stopped: Promise<void> | null = null;
    await creditLoad('term', clients, 8, 1500, audit, (n) => {
      if (n === 500 && stopped === null) stopped = pair.kill('n2', 'SIGTERM');
    });
    await stopped;
    expect((await pair.node('n2').exited).code).toBe(0);
    expect((await pair.waitRole('n1', 'promoting', 0)).reason).toMatch(/handed over/);
    await pair.waitRole('n1', 'solo');
    expect(await audit.check(clients[0]!)).toEqual([]);
  });
});
