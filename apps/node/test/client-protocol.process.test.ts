/**
 * The public contract (PROTOCOL.md sections 2-7) against a real node process, spoken
 * with a plain NATS client the way an outside tool would: MessagePack and JSON, batches,
 * every refusal with its code, and the node serving on after each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { Packr, pack, unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TxClient } from '@txtest/client';
import type { BatchReply, ErrorBody, QueryReply, UpdateOk, UpdateRejected, UpdateReply } from '@txtest/protocol';
import { startNatsServer, startNode, type NatsServerHandle, type NodeProcess } from '@txtest/testkit';

let nats: NatsServerHandle;
let node: NodeProcess;
let nc: NatsConnection;
let dataDir: string;

beforeAll(async () => {
  nats = await startNatsServer();
  dataDir = mkdtempSync(join(tmpdir(), 'txtest-proto-'));
  node = await startNode(['--id', 'p1', '--standalone', '--nats', nats.url, '--data-dir', dataDir, '--http', '0']);
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
});

afterAll(async () => {
  await nc?.close();
  node?.kill('SIGKILL');
  await node?.exited;
  await nats?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

// `R` is the reply the case expects (an UpdateOk, a BatchReply...): the decoded body is
// taken as that type for reading, and the test's `toMatchObject` checks that it is one.
async function tx<R = UpdateReply>(body: unknown): Promise<R> {
  const m = await nc.request('txtest.default.tx', pack(body), { timeout: 5000 });
  return unpack(m.data) as R;
}

async function txRaw(bytes: Uint8Array): Promise<UpdateReply> {
  const m = await nc.request('txtest.default.tx', bytes, { timeout: 5000 });
  return unpack(m.data) as UpdateReply;
}

async function txJson<R = UpdateReply>(text: string, subject = 'txtest.default.tx'): Promise<{ body: R; contentType: string | undefined }> {
  const h = headers();
  h.set('Content-Type', 'application/json');
  const m = await nc.request(subject, new TextEncoder().encode(text), { timeout: 5000, headers: h });
  return { body: JSON.parse(new TextDecoder().decode(m.data)) as R, contentType: m.headers?.get('Content-Type') };
}

/** The error of a refused reply; a reply that is not a refusal fails the test, naming it. */
function refusal(r: UpdateReply | undefined): ErrorBody {
  if (r === undefined || r.ok) throw new Error(`expected a refusal, got ${JSON.stringify(r)}`);
  return r.error;
}

describe('client protocol against a real node', () => {
  it('applies an update and replies with version, seq, epoch and result', async () => {
    const r = await tx<UpdateOk>({ id: 'p-1', asset: 'acc.1', op: 'credit', args: { amount: 50 }, model: 'account' });
    expect(r).toMatchObject({ id: 'p-1', ok: true, asset: 'acc.1', version: 1, result: { balance: 50 } });
    expect(r.seq).toBeGreaterThan(0);
    expect(r.epoch).toBeGreaterThan(0);
    const r2 = await tx<UpdateOk>({ id: 'p-2', asset: 'acc.1', op: 'debit', args: { amount: 20 } });
    expect(r2).toMatchObject({ ok: true, version: 2, result: { balance: 30 }, seq: r.seq + 1 });
  });

  it('speaks JSON when the request says Content-Type: application/json, and answers in JSON', async () => {
    const { body, contentType } = await txJson(JSON.stringify({ id: 'j-1', asset: 'acc.j', op: 'credit', args: { amount: 7 }, model: 'account' }));
    expect(body).toMatchObject({ id: 'j-1', ok: true, version: 1, result: { balance: 7 } });
    expect(contentType).toBe('application/json');
    const q = await txJson<QueryReply>(JSON.stringify({ asset: 'acc.j' }), 'txtest.default.query');
    expect(q.body).toMatchObject({ ok: true, asset: 'acc.j', model: 'account', version: 1, state: { balance: 7 } });
    const bad = await txJson('{"id": "j-2", "asset": ');
    expect(refusal(bad.body).code).toBe('BAD_REQUEST');
    expect(refusal(bad.body).message).toMatch(/JSON/);
  });

  it('a business refusal is REJECTED, logged, deduplicated, with the version unchanged', async () => {
    const r = await tx<UpdateRejected>({ id: 'rej-1', asset: 'acc.1', op: 'debit', args: { amount: 1_000_000 } });
    expect(r).toMatchObject({ id: 'rej-1', ok: false, error: { code: 'REJECTED' }, asset: 'acc.1', version: 2 });
    expect(r.seq).toBeGreaterThan(0);
    expect(await tx({ id: 'rej-1', asset: 'acc.1', op: 'debit', args: { amount: 1_000_000 } })).toEqual(r);
  });

  it('exactly once: a retried id gets the original reply; a reused id with other content is ID_CONFLICT', async () => {
    const first = await tx({ id: 'once-1', asset: 'acc.once', op: 'credit', args: { amount: 5 }, model: 'account' });
    const again = await tx({ id: 'once-1', asset: 'acc.once', op: 'credit', args: { amount: 5 }, model: 'account' });
    expect(again).toEqual(first);
    const conflict = await tx({ id: 'once-1', asset: 'acc.once', op: 'credit', args: { amount: 6 } });
    expect(conflict).toMatchObject({ id: 'once-1', ok: false, error: { code: 'ID_CONFLICT' } });
    const q = unpack((await nc.request('txtest.default.query', pack({ asset: 'acc.once' }), { timeout: 5000 })).data);
    expect(q).toMatchObject({ version: 1, state: { balance: 5 } });
  });

  it('batches: each entry is processed as if alone, replies in order, an invalid entry gets its own error', async () => {
    const r = await tx<BatchReply>({
      batch: [
        { id: 'b-1', asset: 'acc.b', op: 'credit', args: { amount: 10 }, model: 'account' },
        { id: 'b-2', asset: 'acc.b', op: 'debit', args: { amount: 3 } },
        { id: 'b-3', asset: 'acc.b', op: 'debit', args: { amount: -1 } },
        { id: 'b-4', asset: 'bad asset!', op: 'credit' },
        { id: 'b-5', asset: 'acc.b', op: 'debit', args: { amount: 100 } },
      ],
    });
    expect(r.batch.map((x) => (x.ok ? 'ok' : x.error.code))).toEqual(['ok', 'ok', 'BAD_ARGS', 'BAD_REQUEST', 'REJECTED']);
    expect(r.batch[1]).toMatchObject({ version: 2, result: { balance: 7 } });
    expect(refusal(r.batch[2]).message).toMatch(/args\.amount/);
    expect(r.batch[4]).toMatchObject({ version: 2 });
  });

  it('refuses bad input with the code and a sentence naming the problem, and keeps serving', async () => {
    const cases: [unknown, string, RegExp][] = [
      [[1, 2, 3], 'BAD_REQUEST', /map/],
      [{ asset: 'a', op: 'credit' }, 'BAD_REQUEST', /id/],
      [{ id: 7, asset: 'a', op: 'credit' }, 'BAD_REQUEST', /id must be a string/],
      [{ id: 'x'.repeat(129), asset: 'a', op: 'credit' }, 'BAD_REQUEST', /128 bytes/],
      [{ id: 'e-1', asset: 'a b', op: 'credit' }, 'BAD_REQUEST', /asset/],
      [{ id: 'e-2', asset: 'new.asset', op: 'credit', args: { amount: 1 } }, 'BAD_REQUEST', /model is required/],
      [{ id: 'e-3', asset: 'n.1', op: 'credit', model: 'nosuch' }, 'UNKNOWN_MODEL', /nosuch/],
      [{ id: 'e-4', asset: 'acc.1', op: 'set', args: { value: 1 }, model: 'register' }, 'MODEL_MISMATCH', /account/],
      [{ id: 'e-5', asset: 'acc.1', op: 'explode' }, 'UNKNOWN_OP', /explode/],
      [{ id: 'e-6', asset: 'acc.1', op: 'credit', args: { amount: 'ten' } }, 'BAD_ARGS', /args\.amount/],
      [{ id: 'e-7', asset: 'acc.1', op: 'credit', args: { amount: 2 ** 53 } }, 'BAD_ARGS', /args\.amount/],
      [{ id: 'e-8', asset: 'acc.1', op: 'credit', args: 5 }, 'BAD_ARGS', /args must be a map/],
      [{ batch: 'no' }, 'BAD_REQUEST', /batch/],
      [{ batch: new Array(1025).fill({ id: 'x', asset: 'a', op: 'credit' }) }, 'BAD_REQUEST', /1024/],
    ];
    for (const [body, code, message] of cases) {
      const r = await tx(body);
      expect(r.ok, JSON.stringify(body).slice(0, 80)).toBe(false);
      expect(refusal(r).code, JSON.stringify(body).slice(0, 80)).toBe(code);
      expect(refusal(r).message).toMatch(message);
    }
    // Undecodable MessagePack, an extension (timestamp), a record and an oversize body.
    expect(refusal(await txRaw(new Uint8Array([0xc1]))).code).toBe('BAD_REQUEST');
    expect(refusal(await txRaw(new Uint8Array([0x92, 0x01]))).code).toBe('BAD_REQUEST');
    expect(refusal(await tx({ id: 't-1', asset: 'acc.1', op: 'credit', args: { at: new Date(0) } }))).toMatchObject({
      code: 'BAD_REQUEST',
      message: /extension/,
    });
    const records = new Packr({ useRecords: true }).pack({ id: 'r-1', asset: 'acc.1', op: 'credit', args: { amount: 1 } });
    expect(refusal(await txRaw(records))).toMatchObject({ code: 'BAD_REQUEST', message: /extension/ });
    const big = await tx({ id: 'big-1', asset: 'reg.1', op: 'set', args: { value: 'x'.repeat(70_000) }, model: 'register' });
    expect(refusal(big)).toMatchObject({ code: 'TOO_LARGE', message: /65536/ });
    // Nothing refused was applied, and the node still serves.
    const q = unpack((await nc.request('txtest.default.query', pack({ asset: 'acc.1' }), { timeout: 5000 })).data);
    expect(q).toMatchObject({ ok: true, version: 2 });
    expect(unpack((await nc.request('txtest.default.query', pack({ asset: 'n.1' }), { timeout: 5000 })).data)).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    expect(await tx({ id: 'after-bad', asset: 'acc.1', op: 'credit', args: { amount: 1 } })).toMatchObject({ ok: true, version: 3 });
  });

  it('publishes committed updates as events in seq order, and the client library sees them', async () => {
    const client = new TxClient(nc);
    const seen: number[] = [];
    const done = new Promise<void>((resolve) => {
      const sub = client.events('acc.ev', (e) => {
        seen.push(e.version);
        if (seen.length === 5) {
          sub.unsubscribe();
          resolve();
        }
      });
    });
    await nc.flush();
    await Promise.all([1, 2, 3, 4, 5].map((i) => client.update({ asset: 'acc.ev', op: 'credit', args: { amount: i }, model: 'account' })));
    await done;
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    client.close();
  });

  it('status answers on NATS and HTTP with role, epoch and seqs; /readyz is 200 for a solo node', async () => {
    const s = unpack((await nc.request('txtest.default.status.p1', new Uint8Array(0), { timeout: 5000 })).data);
    expect(s).toMatchObject({ nodeId: 'p1', pid: node.pid, role: 'solo' });
    expect(s.committedSeq).toBe(s.lastSeq);
    const http = (node as NodeProcess & { http: string }).http;
    expect(s.http).toBe(http);
    const res = await fetch(`http://${http}/status?digest=true`);
    expect(await res.json()).toMatchObject({ nodeId: 'p1', role: 'solo', digest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await fetch(`http://${http}/readyz`)).status).toBe(200);
    expect((await fetch(`http://${http}/healthz`)).status).toBe(200);
  });
});
