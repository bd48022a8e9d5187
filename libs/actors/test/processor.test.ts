/**
 * The processing path in isolation: a manual clock and defer queue, records captured
 * as the log writer would get them, and the gate's watermark moved by hand.
 */
import { describe, expect, it } from 'vitest';
import { getModel } from '@txtest/models';
import { encodeRecord, MsgWriter, unpackMsgpack, type UpdateReply, type UpdateRequest } from '@txtest/protocol';
import {
  DedupeTable,
  Processor,
  decodeSnapshot,
  encodeSnapshot,
  loadSnapshotSliced,
  replyOf,
  writeEventOf,
  writeReplyOf,
  type DedupeEntry,
  type ProcessorOptions,
  type ReplySink,
} from '../src/index';

const bytesOf = new MsgWriter();

/** A sink that hands each reply, as the client decodes the bytes the node writes, to `fn`; they must equal the reply object. */
function sinkOf(fn: (r: UpdateReply) => void): ReplySink {
  return {
    done: (_i, e) => {
      writeReplyOf(bytesOf, e);
      const r = unpackMsgpack(bytesOf.take()) as UpdateReply;
      expect(r).toEqual(replyOf(e));
      fn(r);
    },
    refused: (_i, r) => fn(r),
  };
}

function harness(over: Partial<ProcessorOptions> = {}) {
  const deferred: (() => void)[] = [];
  const records: { epoch: number; seq: number; payload: Uint8Array }[] = [];
  const events: DedupeEntry[] = [];
  let now = 1_000;
  const p = new Processor({
    clock: { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined },
    defer: (fn) => deferred.push(fn),
    getModel,
    onRecord: (epoch, seq, ts, req, model) =>
      records.push({ epoch, seq, payload: encodeRecord({ ts, id: req.id, asset: req.asset, model, op: req.op, args: req.args }) }),
    onEvent: (e) => {
      writeEventOf(bytesOf, e);
      const { ok: _ok, id: _id, ...position } = replyOf(e) as UpdateReply & { result: unknown };
      expect(unpackMsgpack(bytesOf.take())).toEqual({ ...position, op: e.op });
      events.push(e);
    },
    ...over,
  });
  p.epoch = 3;
  p.accepting = true;
  const replies = new Map<string, UpdateReply>();
  const sink = sinkOf((r) => void replies.set((r as { id: string }).id ?? '?', r));
  const run = () => {
    while (deferred.length > 0) deferred.shift()!();
  };
  const submit = (req: UpdateRequest) => p.submit(req, sink, 0);
  return { p, records, events, replies, run, submit, tick: (ms: number) => (now += ms) };
}

const credit = (id: string, asset: string, amount: number, model?: string): UpdateRequest => ({
  id,
  asset,
  op: 'credit',
  args: { amount },
  ...(model ? { model } : {}),
});

describe('processor', () => {
  it('assigns consecutive seqs at the turn and holds replies until the gate releases them', () => {
    const h = harness();
    h.submit(credit('a', 'x', 5, 'account'));
    h.submit(credit('b', 'y', 7, 'account'));
    h.submit(credit('c', 'x', 1));
    expect(h.replies.size).toBe(0);
    h.run();
    expect(h.records.map((r) => [r.epoch, r.seq])).toEqual([
      [3, 1],
      [3, 2],
      [3, 3],
    ]);
    expect(h.replies.size).toBe(0);
    // Nothing leaves before the watermark covers it; the query sees only committed state.
    expect(h.p.query('x')).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    h.p.release(1);
    expect([...h.replies.keys()]).toEqual(['a']);
    expect(h.p.query('x')).toMatchObject({ ok: true, version: 1, state: { balance: 5 } });
    h.p.release(3);
    // x's two updates took their turns before y's: seqs follow the actors' turns.
    expect(h.replies.get('c')).toMatchObject({ ok: true, version: 2, seq: 2, result: { balance: 6 }, epoch: 3 });
    expect(h.replies.get('b')).toMatchObject({ ok: true, version: 1, seq: 3 });
    expect(h.events.map((e) => [e.asset, e.version, e.seq])).toEqual([
      ['x', 1, 1],
      ['x', 2, 2],
      ['y', 1, 3],
    ]);
  });

  it('one asset runs strictly in order, even across many interleaved assets', () => {
    const h = harness();
    for (let i = 0; i < 300; i++) h.submit(credit(`r${i}`, `a${i % 7}`, 1, 'account'));
    h.run();
    h.p.release(300);
    for (let a = 0; a < 7; a++) {
      const versions = [...h.replies.values()].filter((r) => r.ok && r.asset === `a${a}`).map((r) => (r as { version: number }).version);
      expect(versions).toEqual(versions.slice().sort((x, y) => x - y));
    }
    expect(h.events.map((e) => e.seq)).toEqual(h.events.map((e) => e.seq).sort((x, y) => x - y));
  });

  it('a retried id gets the original reply, even while the original is still pending', () => {
    const h = harness();
    const got: UpdateReply[] = [];
    h.submit(credit('same', 'x', 5, 'account'));
    h.p.submit(
      credit('same', 'x', 5, 'account'),
      sinkOf((r) => void got.push(r)),
      0,
    );
    h.run();
    expect(h.records).toHaveLength(1);
    h.p.release(1);
    h.p.submit(
      credit('same', 'x', 5),
      sinkOf((r) => void got.push(r)),
      0,
    );
    expect(got).toHaveLength(2);
    expect(got[0]).toEqual(h.replies.get('same'));
    expect(got[1]).toEqual(h.replies.get('same'));
    h.p.submit(
      credit('same', 'x', 6),
      sinkOf((r) => void got.push(r)),
      0,
    );
    expect(got[2]).toMatchObject({ ok: false, error: { code: 'ID_CONFLICT' } });
    h.p.submit(
      { ...credit('same', 'x', 5), model: 'register' },
      sinkOf((r) => void got.push(r)),
      0,
    );
    expect(got[3]).toMatchObject({ ok: false, error: { code: 'ID_CONFLICT' } });
  });

  it('refusals at admission change nothing and are not remembered', () => {
    const h = harness();
    h.submit({ id: 'm', asset: 'x', op: 'credit', args: { amount: 1 } });
    expect(h.replies.get('m')).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    h.submit({ id: 'm', asset: 'x', op: 'credit', args: { amount: 1 }, model: 'nope' });
    expect(h.replies.get('m')).toMatchObject({ error: { code: 'UNKNOWN_MODEL' } });
    h.submit({ id: 'm', asset: 'x', op: 'fly', model: 'account' });
    expect(h.replies.get('m')).toMatchObject({ error: { code: 'UNKNOWN_OP' } });
    h.submit(credit('m', 'x', 1, 'account'));
    h.run();
    h.p.release(1);
    expect(h.replies.get('m')).toMatchObject({ ok: true, seq: 1 });
    h.submit({ id: 'n', asset: 'x', op: 'set', args: { value: 1 }, model: 'register' });
    expect(h.replies.get('n')).toMatchObject({ error: { code: 'MODEL_MISMATCH' } });
    h.p.accepting = false;
    h.submit(credit('o', 'x', 1));
    expect(h.replies.get('o')).toMatchObject({ error: { code: 'NOT_PRIMARY' } });
    expect(h.records).toHaveLength(1);
  });

  it('sheds load with OVERLOADED beyond the mailbox and in-flight limits', () => {
    const h = harness({ limits: { mailboxMax: 2, inflightMax: 3 } });
    for (const id of ['1', '2', '3']) h.submit(credit(id, 'x', 1, 'account'));
    expect(h.replies.get('3')).toMatchObject({ error: { code: 'OVERLOADED', message: /asset "x"/ } });
    h.submit(credit('4', 'y', 1, 'account'));
    h.submit(credit('5', 'z', 1, 'account'));
    expect(h.replies.get('5')).toMatchObject({ error: { code: 'OVERLOADED', message: /in flight/ } });
    h.run();
    h.p.release(10);
    h.submit(credit('5', 'z', 1, 'account'));
    expect(h.replies.has('5')).toBe(true);
  });

  it('a REJECTED update is logged and deduplicated with its version unchanged', () => {
    const h = harness();
    h.submit({ id: 'd', asset: 'x', op: 'debit', args: { amount: 1 }, model: 'account' });
    h.run();
    h.p.release(1);
    expect(h.replies.get('d')).toMatchObject({ ok: false, error: { code: 'REJECTED' }, version: 0, seq: 1 });
    expect(h.events).toHaveLength(0);
    expect(h.records).toHaveLength(1);
  });

  it('a follower applying the records reaches the same state, digest and replies (also via a snapshot)', async () => {
    const h = harness();
    for (let i = 0; i < 200; i++)
      h.submit(
        i % 5 === 4 ? { id: `r${i}`, asset: `a${i % 9}`, op: 'debit', args: { amount: 3 }, model: 'account' } : credit(`r${i}`, `a${i % 9}`, i + 1, 'account'),
      );
    h.run();
    h.p.release(200);
    const f = harness();
    f.p.accepting = false;
    for (const r of h.records) f.p.applyRecord(r.epoch, r.seq, r.payload);
    expect(f.p.digest()).toEqual(h.p.digest());
    expect(f.p.lastSeq).toBe(200);
    // The follower's dedupe memory answers a retry with the primary's reply.
    f.p.accepting = true;
    const got: UpdateReply[] = [];
    f.p.submit(
      credit('r7', 'a7', 8),
      sinkOf((r) => void got.push(r)),
      0,
    );
    expect(got[0]).toEqual(h.replies.get('r7'));

    const chunks = await encodeSnapshot(h.p.beginSnapshot(), async () => undefined);
    const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of chunks) {
      body.set(c, off);
      off += c.length;
    }
    const s = harness();
    s.p.loadSnapshot(decodeSnapshot(body));
    expect(s.p.digest()).toEqual(h.p.digest());
    s.p.accepting = true;
    s.p.submit(
      credit('r8', 'a8', 9),
      sinkOf((r) => void got.push(r)),
      0,
    );
    expect(got[1]).toEqual(h.replies.get('r8'));
  });

  it('a snapshot loaded in slices, with a pause between them, reaches the same state and replies', async () => {
    const h = harness();
    for (let i = 0; i < 20_000; i++) h.submit(credit(`r${i}`, `a${i}`, i + 1, 'account'));
    h.run();
    h.p.release(20_000);
    const body = Buffer.concat(await encodeSnapshot(h.p.beginSnapshot(), async () => undefined));
    const s = harness();
    let pauses = 0;
    const loaded = await loadSnapshotSliced(s.p, body, async () => void pauses++);
    expect(loaded).toEqual({ seq: 20_000, epoch: 3, assets: 20_000 });
    // 20 chunks of 1,024 assets and 20 of remembered ids, a pause after every 4 but the last.
    expect(pauses).toBe(9);
    expect(s.p.digest()).toEqual(h.p.digest());
    s.p.accepting = true;
    const got: UpdateReply[] = [];
    s.p.submit(
      credit('r77', 'a77', 78),
      sinkOf((r) => void got.push(r)),
      0,
    );
    expect(got[0]).toEqual(h.replies.get('r77'));
  });

  it('a sliced load reads remembered requests from their bytes: ids and assets that are not ASCII, long ids, refusals and nested args answer retries as the original did', async () => {
    const h = harness();
    const reqs: UpdateRequest[] = [
      credit('é-1', 'ä-acct', 5, 'account'),
      credit(`long-${'x'.repeat(300)}`, 'plain', 7, 'account'),
      { id: 'refused', asset: 'ä-acct', op: 'debit', args: { amount: 1_000 } },
      { id: '🔑', asset: 'reg-ü', op: 'set', args: { value: { nested: [1, 'two', { three: null }] } }, model: 'register' },
      { id: 'cas', asset: 'reg-ü', op: 'cas', args: { expect: 'no', value: 2 } },
    ];
    for (const r of reqs) h.submit(r);
    h.run();
    h.p.release(reqs.length);
    const body = Buffer.concat(await encodeSnapshot(h.p.beginSnapshot(), async () => undefined));
    const s = harness();
    await loadSnapshotSliced(s.p, body, async () => undefined);
    expect(s.p.digest()).toEqual(h.p.digest());
    expect(s.p.dedupeSize).toBe(reqs.length);
    const got = new Map<string, UpdateReply>();
    for (const r of reqs)
      s.p.submit(
        r,
        sinkOf((x) => void got.set(r.id, x)),
        0,
      );
    for (const r of reqs) expect(got.get(r.id)).toEqual(h.replies.get(r.id));
    // The same id with other args is a conflict, found through the loaded index.
    s.p.submit(
      { ...reqs[0]!, args: { amount: 6 } },
      sinkOf((x) => void got.set('conflict', x)),
      0,
    );
    expect((got.get('conflict') as { error?: { code: string } }).error?.code).toBe('ID_CONFLICT');
  });

  it('records replayed unpacked after a large sliced load are packed later, and every id still answers', async () => {
    const h = harness();
    for (let i = 0; i < 20_000; i++) h.submit(credit(`r${i}`, `a${i % 5_000}`, 1, 'account'));
    h.run();
    h.p.release(20_000);
    const body = Buffer.concat(await encodeSnapshot(h.p.beginSnapshot(), async () => undefined));
    for (let i = 20_000; i < 20_100; i++) h.submit(credit(`r${i}`, `a${i % 5_000}`, 1));
    h.run();
    h.p.release(20_100);
    const s = harness();
    await loadSnapshotSliced(s.p, body, async () => undefined);
    // As a recovery replays the log after its snapshot: entries kept loose, packed afterwards.
    s.p.packLater = true;
    for (const r of h.records.slice(20_000)) s.p.applyRecord(r.epoch, r.seq, r.payload);
    s.p.packLater = false;
    while (s.p.packSome(1_000));
    expect(s.p.digest()).toEqual(h.p.digest());
    const got = new Map<string, UpdateReply>();
    for (const id of ['r0', 'r19999', 'r20000', 'r20099'])
      s.p.submit(
        credit(id, `a${Number(id.slice(1)) % 5_000}`, 1),
        sinkOf((x) => void got.set(id, x)),
        0,
      );
    for (const id of got.keys()) expect(got.get(id)).toEqual(h.replies.get(id));
    expect(got.size).toBe(4);
  });

  it('a sliced load of a body with a broken remembered request fails naming the snapshot, not with a bare decoder error', async () => {
    const h = harness();
    for (let i = 0; i < 3; i++) h.submit(credit(`r${i}`, `a${i}`, 1, 'account'));
    h.run();
    h.p.release(3);
    const body = Buffer.concat(await encodeSnapshot(h.p.beginSnapshot(), async () => undefined));
    // The last row's ok flag (0xc3, true) made a number: not a 10-field row of the right types.
    const broken = Buffer.from(body);
    broken[broken.lastIndexOf(0xc3)] = 0x01;
    await expect(loadSnapshotSliced(harness().p, broken, async () => undefined)).rejects.toThrow(/snapshot body cannot be decoded: expected a boolean/);
    await expect(loadSnapshotSliced(harness().p, body.subarray(0, body.length - 3), async () => undefined)).rejects.toThrow(
      /snapshot body cannot be decoded: MessagePack data ends early/,
    );
  });

  it('applyRecord refuses a gap in seqs', () => {
    const h = harness();
    h.submit(credit('a', 'x', 1, 'account'));
    h.run();
    const f = harness();
    expect(() => f.p.applyRecord(1, 2, h.records[0]!.payload)).toThrow(/does not follow/);
  });
});

describe('dedupe retention', () => {
  it('keeps at least countMin ids or retainMs, whichever is larger, and never more than countMax', () => {
    const t = new DedupeTable({ countMin: 3, retainMs: 100, countMax: 6 });
    // As the processor does: admitted, stamped at the turn, settled once its reply is out.
    const stamp = (id: string, seq: number, ts: number) => {
      const e = t.admit({ id, asset: 'a', op: 'o' });
      t.stamp(e, seq, ts);
      t.settle(e);
    };
    for (let i = 1; i <= 5; i++) stamp(`i${i}`, i, 0);
    expect(t.size).toBe(5); // all younger than 100 ms
    stamp('i6', 6, 150);
    expect(t.size).toBe(3); // i1..i3 older than 100 ms and beyond the newest 3
    for (let i = 7; i <= 12; i++) stamp(`i${i}`, i, 150);
    expect(t.size).toBe(6); // the hard cap
    expect(t.get('i12')).toBeDefined();
    expect(t.get('i6')).toBeUndefined();
  });
});

describe('packing remembered entries', () => {
  const row = (i: number) => [`r${i}`, 'a', 'credit', { amount: i }, i, 1_000 + i, 1, i, true, { balance: i * 10 }] as const;

  it('a recovery leaves entries unpacked; packSome packs them in slices, and replies are the same either way', () => {
    const { p } = harness();
    p.packLater = true;
    p.loadSnapshot({
      seq: 50,
      epoch: 1,
      assets: [['a', 'account', 50, 50, { balance: 500 }]],
      dedupe: Array.from({ length: 50 }, (_, i) => [...row(i + 1)]) as never,
    });
    p.packLater = false;
    const table = (p as unknown as { dedupe: DedupeTable }).dedupe;
    const entries = () => Array.from({ length: 50 }, (_, i) => table.get(`r${i + 1}`)!);
    const before = entries().map((e) => replyOf(e));
    expect(entries().every((e) => e.packed === null)).toBe(true);
    expect(p.packSome(20)).toBe(true);
    expect(entries().filter((e) => e.packed !== null)).toHaveLength(20);
    while (p.packSome(20));
    expect(entries().every((e) => e.packed !== null && e.args === undefined && e.outcome === undefined)).toBe(true);
    expect(entries().map((e) => replyOf(e))).toEqual(before);
    expect(p.captureSnapshot().dedupe.map((r) => r[0])).toEqual(entries().map((e) => e.id));
    expect(before[6]).toMatchObject({ id: 'r7', ok: true, version: 7, seq: 7, result: { balance: 70 } });
  });

  it('an entry learnt from a replicated record is packed at once, outside a recovery', () => {
    const { p } = harness();
    p.applyRecord(1, 1, encodeRecord({ ts: 5, id: 'x1', asset: 'b', model: 'account', op: 'credit', args: { amount: 3 } }));
    const e = (p as unknown as { dedupe: DedupeTable }).dedupe.get('x1');
    expect(e!.packed).not.toBeNull();
    expect(replyOf(e!)).toMatchObject({ id: 'x1', ok: true, result: { balance: 3 } });
  });
});
