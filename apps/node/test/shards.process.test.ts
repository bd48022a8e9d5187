/**
 * A cluster of two shards (PROTOCOL.md section 12) against real node processes: each
 * node answers only its shard's subjects and refuses a foreign asset with WRONG_SHARD
 * (nothing applied), status and the roll call carry the shard, and the client routes a
 * turn's updates over both shards and settles each with its own reply, in order. The
 * audit across two pairs under SIGKILL failovers is the loadgen's drill
 * (apps/loadgen/test/drill.process.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { pack, unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TxClient } from '@txtest/client';
import { shardOf, TxError, type NodeStatus, type UpdateReply } from '@txtest/protocol';
import { nodeStatus, runAdmin, startNatsServer, startNode, type NatsServerHandle, type NodeProcess } from '@txtest/testkit';

let nats: NatsServerHandle;
let nc: NatsConnection;
let dir: string;
const nodes: NodeProcess[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  dir = mkdtempSync(join(tmpdir(), 'txtest-shards-'));
  // One node per shard is enough for routing: each is a whole pair's door.
  for (const k of [0, 1])
    nodes.push(
      await startNode([
        '--id',
        `s${k}-n1`,
        '--standalone',
        '--shards',
        '2',
        '--shard',
        String(k),
        '--nats',
        nats.url,
        '--data-dir',
        join(dir, `s${k}`),
        '--http',
        '0',
      ]),
    );
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
});

afterAll(async () => {
  await nc?.close();
  for (const n of nodes) n.kill('SIGKILL');
  await Promise.all(nodes.map((n) => n.exited));
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** An account id that shard `k` of 2 owns. */
function assetOf(k: number, from = 0): string {
  for (let i = from; ; i++) if (shardOf(`acct-${i}`, 2) === k) return `acct-${i}`;
}

async function request(subject: string, body: unknown): Promise<UpdateReply> {
  return unpack((await nc.request(subject, pack(body), { timeout: 5000 })).data) as UpdateReply;
}

const credit = (id: string, asset: string) => ({ id, asset, op: 'credit', args: { amount: 5 }, model: 'account' });

describe('two shards', () => {
  it('a misrouted update and query get WRONG_SHARD naming the owner, and nothing is applied', async () => {
    const theirs = assetOf(1);
    const before = await nodeStatus(nc, 's0-n1');
    const r = await request('txtest.default.tx.0', credit('w1', theirs));
    expect(r).toEqual({ id: 'w1', ok: false, error: { code: 'WRONG_SHARD', message: expect.stringContaining(`asset "${theirs}" belongs to shard 1 of 2`) } });
    const q = await request('txtest.default.query.0', { asset: theirs });
    expect(q).toMatchObject({ ok: false, error: { code: 'WRONG_SHARD' } });
    expect((await nodeStatus(nc, 's0-n1')).lastSeq).toBe(before.lastSeq);
    // The owner has never seen it either.
    expect(await request('txtest.default.query.1', { asset: theirs })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    // In a sharded cluster nobody answers the unsharded subject.
    await expect(nc.request('txtest.default.tx', pack(credit('w2', theirs)), { timeout: 2000 })).rejects.toThrow(/no responders/i);
  });

  it('status and the roll call carry each node shard', async () => {
    expect(await nodeStatus(nc, 's1-n1')).toMatchObject({ nodeId: 's1-n1', shard: 1, shards: 2, role: 'solo' });
    const seen: NodeStatus[] = [];
    for await (const m of await nc.requestMany('txtest.default.status', pack({}), { strategy: 'timer', maxWait: 1000 }))
      seen.push(unpack(m.data) as NodeStatus);
    expect(seen.map((s) => [s.nodeId, s.shard]).sort()).toEqual([
      ['s0-n1', 0],
      ['s1-n1', 1],
    ]);
  });

  it('txtest-admin status shows a table per shard, each node under the shard it reports', async () => {
    const r = await runAdmin(['status', '--nats', nats.url, '--shards', '2', '--nodes', 's1-n1,s0-n1']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const at = (text: string) => lines.findIndex((l) => l.startsWith(text));
    expect(at('shard 0 of 2')).toBeGreaterThanOrEqual(0);
    expect(at('shard 1 of 2')).toBeGreaterThan(at('shard 0 of 2'));
    expect(lines[at('shard 0 of 2') + 1]!.trim()).toBe('s0-n1');
    expect(lines[at('shard 1 of 2') + 1]!.trim()).toBe('s1-n1');
  });

  it("a client's turn of updates over both shards goes out as one batch per shard and settles in order", async () => {
    const client = new TxClient(nc, { shards: 2 });
    try {
      const before = await Promise.all([nodeStatus(nc, 's0-n1'), nodeStatus(nc, 's1-n1')]);
      const assets = Array.from({ length: 40 }, (_, i) => `batch-${i}`);
      const ids = assets.map((_, i) => `b${i}`);
      const replies = await Promise.all(
        assets.map((asset, i) => client.update({ id: ids[i], asset, op: 'credit', args: { amount: i + 1 }, model: 'account' })),
      );
      expect(replies.map((r) => [r.id, r.ok])).toEqual(ids.map((id) => [id, true]));
      const owned = [0, 1].map((k) => assets.filter((a) => shardOf(a, 2) === k).length);
      expect(owned[0]).toBeGreaterThan(0);
      expect(owned[1]).toBeGreaterThan(0);
      const after = await Promise.all([nodeStatus(nc, 's0-n1'), nodeStatus(nc, 's1-n1')]);
      expect([0, 1].map((k) => after[k]!.lastSeq - before[k]!.lastSeq)).toEqual(owned);
      // Within a shard, seqs follow the order the updates were issued in.
      for (const k of [0, 1]) {
        const seqs = replies.filter((_, i) => shardOf(assets[i]!, 2) === k).map((r) => r.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      }
      // Each balance is read back from its own shard.
      expect((await client.query('batch-7'))?.state).toEqual({ balance: 8 });
    } finally {
      client.close();
    }
  });

  it('a client that counts the shards wrong fails loud, never writes to a pair that does not own the asset', async () => {
    // With three shards in mind, an asset of "shard 0 of 3" that shard 1 of 2 owns goes to the wrong pair.
    let asset = '';
    for (let i = 0; asset === ''; i++) if (shardOf(`m-${i}`, 3) === 0 && shardOf(`m-${i}`, 2) === 1) asset = `m-${i}`;
    const three = new TxClient(nc, { shards: 3, deadlineMs: 1500 });
    // With one shard in mind, it sends to the unsharded subject, which nobody serves here.
    const one = new TxClient(nc, { shards: 1, deadlineMs: 1500 });
    try {
      const misrouted = await three.update({ asset, op: 'credit', args: { amount: 1 }, model: 'account' }).catch((e: unknown) => e);
      expect(misrouted).toBeInstanceOf(TxError);
      expect((misrouted as TxError).code).toBe('WRONG_SHARD');
      const unserved = await one.update({ asset, op: 'credit', args: { amount: 1 }, model: 'account' }).catch((e: unknown) => e);
      expect((unserved as TxError).code).toBe('TIMEOUT');
      expect(await request('txtest.default.query.1', { asset })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    } finally {
      three.close();
      one.close();
    }
  });
});
