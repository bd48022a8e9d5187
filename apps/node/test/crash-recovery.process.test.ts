/**
 * Process tests for a standalone node: a real nats-server, a real node process,
 * SIGKILL mid-load, restart on the same data dir. The audit is client-side: every
 * acknowledged update must be present exactly once, and a retried id must get the
 * original reply field for field.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TxClient, type UpdateResult } from '@txtest/client';
import { nodeStatus, startNatsServer, startNode, type NatsServerHandle, type NodeProcess } from '@txtest/testkit';

let nats: NatsServerHandle;
let dataDir: string;
const started: NodeProcess[] = [];

function nodeArgs(): string[] {
  return ['--id', 'n1', '--standalone', '--nats', nats.url, '--data-dir', dataDir, '--http', '0', '--fsync', '5ms', '--snapshot-every', '1500'];
}

async function boot() {
  const n = await startNode(nodeArgs());
  started.push(n);
  return n;
}

beforeAll(async () => {
  nats = await startNatsServer();
  dataDir = mkdtempSync(join(tmpdir(), 'txtest-crash-'));
});

afterAll(async () => {
  for (const n of started) n.kill('SIGKILL');
  await Promise.all(started.map((n) => n.exited));
  await nats?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Acked {
  id: string;
  asset: string;
  amount: number;
  reply: UpdateResult;
}

describe('standalone node: crash and recovery', () => {
  it('SIGKILL mid-load loses no acknowledged update, and every acked id replays its original reply', async () => {
    let node = await boot();
    const conns: NatsConnection[] = await Promise.all([0, 1, 2, 3].map(() => connect({ servers: nats.url, noAsyncTraces: true })));
    const clients = conns.map((nc, i) => new TxClient(nc, { batching: i % 2 === 0, attemptTimeoutMs: 500, deadlineMs: 60_000 }));
    const acked: Acked[] = [];
    const ASSETS = 97;
    const TOTAL = 4000;
    let issued = 0;
    let killed = false;
    let restarted: Promise<void> | null = null;

    const worker = async (client: TxClient, w: number) => {
      while (issued < TOTAL) {
        const n = issued++;
        const asset = `acct-${(n * 31 + w) % ASSETS}`;
        const amount = 1 + (n % 13);
        const id = client.newId();
        const reply = await client.update({ id, asset, op: 'credit', args: { amount }, model: 'account' });
        acked.push({ id, asset, amount, reply });
        if (!killed && acked.length >= TOTAL / 3) {
          killed = true;
          node.kill('SIGKILL');
          restarted = node.exited.then(async () => {
            node = await boot();
          });
        }
      }
    };
    await Promise.all(clients.flatMap((c, i) => Array.from({ length: 16 }, (_, w) => worker(c, i * 16 + w))));
    await restarted;
    expect(killed).toBe(true);
    expect(acked.length).toBe(TOTAL);

    // Every acked update is there exactly once: balances and versions add up per asset.
    const expected = new Map<string, { balance: number; version: number }>();
    for (const a of acked) {
      expect(a.reply.ok).toBe(true);
      const e = expected.get(a.asset) ?? { balance: 0, version: 0 };
      e.balance += a.amount;
      e.version += 1;
      expected.set(a.asset, e);
    }
    const reader = clients[0]!;
    for (const [asset, e] of expected) {
      const q = await reader.query(asset);
      expect(q, asset).not.toBeNull();
      expect({ asset, balance: (q!.state as { balance: number }).balance, version: q!.version }).toEqual({ asset, ...e });
    }

    // Seqs are unique: no update was logged twice.
    expect(new Set(acked.map((a) => a.reply.seq)).size).toBe(TOTAL);

    // A retry of any acked id returns the original reply, field for field, across the restart.
    const sample = acked.filter((_, i) => i % 7 === 0);
    const retries = await Promise.all(sample.map((a) => reader.update({ id: a.id, asset: a.asset, op: 'credit', args: { amount: a.amount } })));
    for (let i = 0; i < sample.length; i++) expect(retries[i]).toEqual(sample[i]!.reply);
    // ...and changed nothing.
    const again = await reader.query(acked[0]!.asset);
    expect(again!.version).toBe(expected.get(acked[0]!.asset)!.version);

    for (const c of clients) c.close();
    await Promise.all(conns.map((c) => c.close()));
  });

  it('with the load stopped, the digest after SIGKILL and restart equals the digest before', async () => {
    const nc = await connect({ servers: nats.url, noAsyncTraces: true });
    const node = started.at(-1)!;
    const before = await nodeStatus(nc, 'n1', true);
    expect(before.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(before.role).toBe('solo');
    node.kill('SIGKILL');
    await node.exited;
    await boot(); // afterAll kills it with the others
    const after = await nodeStatus(nc, 'n1', true);
    expect(after.digest).toBe(before.digest);
    expect(after.appliedSeq).toBe(before.appliedSeq);
    expect(after.epoch).toBeGreaterThan(before.epoch);
    await nc.close();
  });
});
