/**
 * TxClient against a real nats-server and node process: retries through "no
 * responders" until a node serves, batches one event-loop turn into one message, takes
 * a reply that comes after its attempt timed out, and gives up with TIMEOUT at its
 * deadline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TxClient } from '@txtest/client';
import { TxError, unpackMsgpack } from '@txtest/protocol';
import { startNatsServer, startNode, type NatsServerHandle, type NodeProcess } from '@txtest/testkit';

let nats: NatsServerHandle;
let nc: NatsConnection;
let node: NodeProcess | null = null;
let dataDir: string;

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: false });
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
  dataDir = mkdtempSync(join(tmpdir(), 'txtest-client-'));
});

afterAll(async () => {
  await nc?.close();
  node?.kill('SIGKILL');
  await node?.exited;
  await nats?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('TxClient', () => {
  it('gives up with TIMEOUT at its deadline when no node answers', async () => {
    const retries: string[] = [];
    const client = new TxClient(nc, { cluster: 'nobody', deadlineMs: 300, onRetry: (r) => retries.push(r) });
    const err = await client.update({ asset: 'a', op: 'credit', args: { amount: 1 }, model: 'account' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TxError);
    expect((err as TxError).code).toBe('TIMEOUT');
    expect(retries).toContain('no-responders');
    client.close();
  });

  it('retries through "no responders" until a node starts serving, then succeeds once', async () => {
    const retries: string[] = [];
    let retried!: () => void;
    const firstRetry = new Promise<void>((resolve) => (retried = resolve));
    const client = new TxClient(nc, { deadlineMs: 30_000, onRetry: (r) => (retries.push(r), retried()) });
    const pending = client.update({ asset: 'late', op: 'credit', args: { amount: 9 }, model: 'account' });
    // The first attempt has no responder; start the node only after a retry has happened.
    await firstRetry;
    node = await startNode(['--id', 'c1', '--standalone', '--nats', nats.url, '--data-dir', dataDir, '--http', '0']);
    const reply = await pending;
    expect(reply).toMatchObject({ ok: true, version: 1, result: { balance: 9 } });
    expect(retries.every((r) => r === 'no-responders' || r === 'timeout')).toBe(true);
    client.close();
  });

  it('updates issued in one event-loop turn travel as one batch message; batching off sends one each', async () => {
    const seen: unknown[] = [];
    const spy = nc.subscribe('txtest.default.tx', { callback: (_e, m) => void seen.push(unpackMsgpack(m.data)) });
    await nc.flush();
    const batched = new TxClient(nc);
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) => batched.update({ asset: 'b1', op: 'credit', args: { amount: i + 1 }, model: 'account' })),
    );
    expect(replies.map((r) => r.ok && r.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(seen).toHaveLength(1);
    expect((seen[0] as { batch: unknown[] }).batch).toHaveLength(10);

    seen.length = 0;
    const single = new TxClient(nc, { batching: false });
    await Promise.all(Array.from({ length: 3 }, () => single.update({ asset: 'b1', op: 'debit', args: { amount: 1 } })));
    expect(seen).toHaveLength(3);
    expect(seen.every((s) => !('batch' in (s as object)))).toBe(true);
    spy.unsubscribe();
    batched.close();
    single.close();
  });

  it('a turn whose updates exceed the body limit is split into several messages under it', async () => {
    const sizes: number[] = [];
    const spy = nc.subscribe('txtest.default.tx', { callback: (_e, m) => void sizes.push(m.data.length) });
    await nc.flush();
    const client = new TxClient(nc);
    const big = 'é'.repeat(1000); // 2,000 bytes of UTF-8 each
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) => client.update({ asset: `reg.${i}`, op: 'set', args: { value: big }, model: 'register' })),
    );
    expect(replies.every((r) => r.ok)).toBe(true);
    expect(sizes.length).toBeGreaterThan(2);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(64 * 1024);
    spy.unsubscribe();
    client.close();
  });

  it("a reply that comes after its attempt timed out settles the update (the retries' own are never answered)", async () => {
    // A slow path to the node: the first attempt of each id is held until its retry
    // shows that the client gave up on it, then passed on with its own reply subject;
    // every retry is dropped. Only the late reply can settle the update.
    const held = new Map<string, { data: Uint8Array; reply: string }>();
    const relay = nc.subscribe('txtest.slow.tx', {
      callback: (_e, m) => {
        const { id } = unpackMsgpack(m.data) as { id: string };
        const first = held.get(id);
        if (first === undefined) return void held.set(id, { data: m.data, reply: m.reply! });
        if (first.reply === '') return;
        nc.publish('txtest.default.tx', first.data, { reply: first.reply });
        first.reply = '';
      },
    });
    await nc.flush();
    const retries: string[] = [];
    const client = new TxClient(nc, { cluster: 'slow', attemptTimeoutMs: 50, deadlineMs: 5_000, onRetry: (r) => retries.push(r) });
    const reply = await client.update({ asset: 'late-reply', op: 'credit', args: { amount: 4 }, model: 'account' });
    expect(reply).toMatchObject({ ok: true, version: 1, result: { balance: 4 } });
    expect(retries[0]).toBe('timeout');
    relay.unsubscribe();
    client.close();
  });

  it('a refusal that retrying cannot fix rejects at once with its code', async () => {
    const client = new TxClient(nc);
    const err = await client.update({ asset: 'b1', op: 'credit', args: { amount: -5 } }).catch((e: unknown) => e);
    expect((err as TxError).code).toBe('BAD_ARGS');
    const rejected = await client.update({ asset: 'b1', op: 'debit', args: { amount: 1_000_000 } });
    expect(rejected).toMatchObject({ ok: false, error: { code: 'REJECTED' } });
    expect(await client.query('nope')).toBeNull();
    client.close();
  });
});
