/**
 * KvArbiter against a real nats-server with JetStream: the compare-and-set rules the
 * election relies on, a server without JetStream (open gives null), a corrupted key and
 * a dead server. Every scenario uses its own cluster name, hence its own bucket, so the
 * scenarios share one server without seeing each other's writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, type NatsServerHandle } from '@txtest/testkit';
import { ARBITER_KEY, KvArbiter, arbiterBucketName, connectNats } from '../src/index';

let server: NatsServerHandle;
let nc1: NatsConnection;
let nc2: NatsConnection;
let clusterSeq = 0;

/** A fresh cluster name per scenario, so each one starts with an empty bucket. */
function freshCluster(): string {
  clusterSeq += 1;
  return `c${clusterSeq}`;
}

async function openOn(nc: NatsConnection, cluster: string, timeoutMs?: number): Promise<KvArbiter> {
  const a = await KvArbiter.open(nc, timeoutMs === undefined ? { cluster } : { cluster, timeoutMs });
  if (a === null) throw new Error('JetStream is on in this server, so open must not give null');
  return a;
}

beforeAll(async () => {
  server = await startNatsServer({ jetstream: true });
  // Two connections, because two nodes racing for the key never share one.
  nc1 = await connectNats({ url: server.url }, 'kv-arbiter-test-1');
  nc2 = await connectNats({ url: server.url }, 'kv-arbiter-test-2');
});

afterAll(async () => {
  await nc1?.close();
  await nc2?.close();
  await server?.stop();
});

describe('KvArbiter with JetStream', () => {
  it('names the bucket after prefix and cluster, mapping characters buckets refuse to _', () => {
    expect(arbiterBucketName('txtest', 'default')).toBe('txtest_txtest_default');
    expect(arbiterBucketName('my.app', 'eu west/1')).toBe('txtest_my_app_eu_west_1');
  });

  it("keeps each shard's pair on a key of its own in the cluster's one bucket", async () => {
    const cluster = freshCluster();
    const open = async (index: number) => (await KvArbiter.open(nc1, { cluster, shard: { index, count: 2 } }))!;
    const [s0, s1] = await Promise.all([open(0), open(1)]);
    expect([s0.bucket, s0.key, s1.key]).toEqual([arbiterBucketName('txtest', cluster), 'primary-0', 'primary-1']);
    expect((await s0.compareAndSet(0, { epoch: 3, primary: 's0-n1' })).ok).toBe(true);
    // Shard 1 sees nothing of shard 0's election, and wins its own at revision 0.
    expect(await s1.read()).toEqual({ value: null, revision: 0 });
    expect((await s1.compareAndSet(0, { epoch: 1, primary: 's1-n2' })).ok).toBe(true);
    expect((await s0.read()).value).toEqual({ epoch: 3, primary: 's0-n1' });
    // An unsharded cluster's key stays the one it always was.
    expect((await openOn(nc2, cluster)).key).toBe(ARBITER_KEY);
  });

  it('reads an empty key as value null at revision 0', async () => {
    const a = await openOn(nc1, freshCluster());
    expect(await a.read()).toEqual({ value: null, revision: 0 });
    await a.close();
  });

  it('lets one create at revision 0 win and tells a second create what is there now', async () => {
    const a = await openOn(nc1, freshCluster());
    const first = await a.compareAndSet(0, { epoch: 1, primary: 'n1' });
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    expect(first.revision).toBeGreaterThan(0);

    const second = await a.compareAndSet(0, { epoch: 1, primary: 'n2' });
    expect(second).toEqual({ ok: false, current: { value: { epoch: 1, primary: 'n1' }, revision: first.revision } });
    expect(await a.read()).toEqual({ value: { epoch: 1, primary: 'n1' }, revision: first.revision });
  });

  it('lets exactly one of two connections racing at the same revision win, every time', async () => {
    const cluster = freshCluster();
    const a = await openOn(nc1, cluster);
    const b = await openOn(nc2, cluster);
    // Round 0 races two creates on the absent key; later rounds race two updates.
    for (let round = 0; round < 10; round++) {
      const { revision } = await a.read();
      const epoch = round + 1;
      const [ra, rb] = await Promise.all([a.compareAndSet(revision, { epoch, primary: 'n1' }), b.compareAndSet(revision, { epoch, primary: 'n2' })]);
      const winners = [ra, rb].filter((r) => r.ok);
      expect(winners).toHaveLength(1);
      const winner = ra.ok ? ra : rb;
      const loser = ra.ok ? rb : ra;
      if (!winner.ok || loser.ok) throw new Error('unreachable: exactly one won');
      // The loser must learn the winner's write, so it can step aside without another read.
      expect(loser.current).toEqual({ value: { epoch, primary: ra.ok ? 'n1' : 'n2' }, revision: winner.revision });
    }
  });

  it('accepts an update at the winner revision and refuses a stale one with the current value', async () => {
    const a = await openOn(nc1, freshCluster());
    const created = await a.compareAndSet(0, { epoch: 1, primary: 'n1' });
    if (!created.ok) throw new Error('the first create on an empty key must win');

    const updated = await a.compareAndSet(created.revision, { epoch: 2, primary: 'n2' });
    expect(updated.ok).toBe(true);
    if (!updated.ok) return;
    expect(updated.revision).toBeGreaterThan(created.revision);

    // A node that slept through epoch 2 still holds the revision of epoch 1.
    const stale = await a.compareAndSet(created.revision, { epoch: 2, primary: 'n1' });
    expect(stale).toEqual({ ok: false, current: { value: { epoch: 2, primary: 'n2' }, revision: updated.revision } });
  });

  it('refuses an update at a non-zero revision when the key was never written', async () => {
    const a = await openOn(nc1, freshCluster());
    expect(await a.compareAndSet(5, { epoch: 1, primary: 'n1' })).toEqual({ ok: false, current: { value: null, revision: 0 } });
  });

  it('reads a deleted key as empty and lets a create at revision 0 write over the delete marker', async () => {
    const cluster = freshCluster();
    const a = await openOn(nc1, cluster);
    const created = await a.compareAndSet(0, { epoch: 1, primary: 'n1' });
    expect(created.ok).toBe(true);
    // An operator removing the key by hand leaves a delete marker, not an absent key.
    const kv = await new Kvm(nc1).open(arbiterBucketName('txtest', cluster));
    await kv.delete(ARBITER_KEY);
    expect(await a.read()).toEqual({ value: null, revision: 0 });
    const recreated = await a.compareAndSet(0, { epoch: 2, primary: 'n2' });
    expect(recreated.ok).toBe(true);
    expect((await a.read()).value).toEqual({ epoch: 2, primary: 'n2' });
  });

  it('reopens an existing bucket and sees what was written through another connection', async () => {
    const cluster = freshCluster();
    const a = await openOn(nc1, cluster);
    const w = await a.compareAndSet(0, { epoch: 7, primary: 'n2' });
    if (!w.ok) throw new Error('the first create on an empty key must win');
    const b = await openOn(nc2, cluster);
    expect(await b.read()).toEqual({ value: { epoch: 7, primary: 'n2' }, revision: w.revision });
  });

  it('makes read throw, naming the bucket and key, when the key holds garbage', async () => {
    const cluster = freshCluster();
    const a = await openOn(nc1, cluster);
    const bucket = arbiterBucketName('txtest', cluster);
    const kv = await new Kvm(nc1).open(bucket);

    await kv.put(ARBITER_KEY, 'not json at all');
    await expect(a.read()).rejects.toThrow(new RegExp(`key ${ARBITER_KEY} in bucket ${bucket}`));

    // Valid JSON of the wrong shape is refused as firmly as text that does not parse.
    await kv.put(ARBITER_KEY, JSON.stringify({ epoch: '3', primary: 'n1' }));
    await expect(a.read()).rejects.toThrow(bucket);
  });

  it('refuses to write a value that read would not accept', async () => {
    const a = await openOn(nc1, freshCluster());
    await expect(a.compareAndSet(0, { epoch: -1, primary: 'n1' })).rejects.toThrow(/epoch/);
    await expect(a.compareAndSet(0, { epoch: 1, primary: '' })).rejects.toThrow(/primary/);
    expect(await a.read()).toEqual({ value: null, revision: 0 });
  });

  it('closes idempotently and refuses operations afterwards', async () => {
    const a = await openOn(nc1, freshCluster());
    await a.close();
    await a.close();
    await expect(a.read()).rejects.toThrow(/closed/);
  });
});

describe('KvArbiter without a usable JetStream', () => {
  it('gives null from open against a server without JetStream', async () => {
    const plain = await startNatsServer({ jetstream: false });
    const nc = await connectNats({ url: plain.url }, 'kv-arbiter-test-nojs');
    try {
      expect(await KvArbiter.open(nc, { cluster: 'default' })).toBeNull();
    } finally {
      await nc.close();
      await plain.stop();
    }
  });

  it('throws within the timeout instead of hanging when the server dies', async () => {
    const doomed = await startNatsServer({ jetstream: true });
    const nc = await connectNats({ url: doomed.url }, 'kv-arbiter-test-dead');
    try {
      const a = await openOn(nc, 'default', 300);
      await doomed.stop();
      const started = Date.now();
      await expect(a.read()).rejects.toThrow(/arbiter key primary in bucket txtest_txtest_default/);
      await expect(a.compareAndSet(0, { epoch: 1, primary: 'n1' })).rejects.toThrow(/cannot write/);
      // Two operations at 300 ms each; the bound is loose so a slow CI box does not flake.
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await nc.close();
      await doomed.stop();
    }
  });
});
