/**
 * What keeps a node of a million assets small and its failover short: an actor only for
 * an asset with work (the rest are rows of the asset store), abandonPending that
 * touches only the assets with work in flight, and snapshots and digests walked a slice
 * at a time yet exact as of the moment they began.
 */
import { describe, expect, it } from 'vitest';
import { getModel } from '@txtest/models';
import { encodeRecord, type UpdateRequest } from '@txtest/protocol';
import {
  DedupeTable,
  Processor,
  decodeSnapshot,
  encodeSnapshot,
  imageSource,
  replyOf,
  type AssetActor,
  type AssetStore,
  type ReplySink,
  type SnapshotAsset,
  type SnapshotImage,
} from '../src/index';

/** Snapshot rows in asset order: a walk's order is the table's, which a shard growing meanwhile may change. */
const byAsset = (rows: SnapshotAsset[]) => [...rows].sort((x, y) => (x[0] < y[0] ? -1 : 1));

const sink: ReplySink = {
  done: () => undefined,
  refused: (_i, r) => {
    throw new Error(r.error.message);
  },
};

function harness() {
  const deferred: (() => void)[] = [];
  const records: { epoch: number; seq: number; payload: Uint8Array }[] = [];
  let now = 1_000;
  const p = new Processor({
    clock: { now: () => (now += 1), setTimeout: () => 0, clearTimeout: () => undefined },
    defer: (fn) => deferred.push(fn),
    getModel,
    onRecord: (epoch, seq, ts, req, model) =>
      records.push({ epoch, seq, payload: encodeRecord({ ts, id: req.id, asset: req.asset, model, op: req.op, args: req.args }) }),
    onEvent: () => undefined,
  });
  p.epoch = 1;
  p.accepting = true;
  let n = 0;
  const credit = (asset: string, amount = 1): UpdateRequest => ({ id: `u${n++}`, asset, op: 'credit', args: { amount }, model: 'account' });
  const submit = (asset: string, amount = 1) => p.submit(credit(asset, amount), sink, 0);
  const run = () => {
    while (deferred.length > 0) deferred.shift()!();
  };
  const actors = () => (p as unknown as { actors: Map<number, AssetActor> }).actors;
  return { p, records, submit, run, actors };
}

/** Everything a snapshot holds, decoded, for comparing two of them. */
async function encoded(image: Parameters<typeof encodeSnapshot>[0]): Promise<SnapshotImage> {
  const chunks = await encodeSnapshot(image, async () => undefined);
  return decodeSnapshot(Buffer.concat(chunks));
}

describe('memory layout and stall-free whole-state passes', () => {
  it('an actor exists only while updates queue for it or its turns await the gate; the committed view is its row', () => {
    const h = harness();
    h.submit('a', 5);
    h.submit('a', 7);
    expect(h.p.queuedFor('a')).toBe(2);
    expect(h.actors().size).toBe(1);
    h.run();
    expect(h.p.queuedFor('a')).toBe(0);
    const a = h.actors().values().next().value!;
    expect([a.mailbox, a.turns, a.state, a.version]).toEqual([null, 2, 12, 2]);
    // Applied twice, committed not at all: readers see no asset yet.
    expect(h.p.query('a')).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    h.p.release(1);
    expect(h.p.query('a')).toMatchObject({ ok: true, version: 1, seq: 1, state: { balance: 5 } });
    expect(h.actors().size).toBe(1);
    h.p.release(2);
    // Fully released: the asset is only its row again.
    expect(h.actors().size).toBe(0);
    expect(h.p.query('a')).toMatchObject({ ok: true, version: 2, seq: 2, state: { balance: 12 } });
  });

  it('abandonPending touches only assets with updates in flight, never a pass over all of them', () => {
    const h = harness();
    for (let i = 0; i < 1000; i++) h.submit(`idle${i}`);
    h.run();
    h.p.release(h.p.lastSeq);
    h.submit('busy', 3); // a turn, unreleased
    h.run();
    h.submit('busy', 4); // queued, no turn yet
    h.submit('queued', 9);
    // Every row it writes goes through commit.
    const store = (h.p as unknown as { assets: AssetStore }).assets;
    const commit = store.commit.bind(store);
    const written: number[] = [];
    store.commit = (row, ...rest) => {
      written.push(row);
      commit(row, ...rest);
    };
    const before = h.p.dedupeSize;
    h.p.abandonPending();
    // The turn taken joins the committed view; the two updates without a turn are forgotten.
    expect(written).toEqual([store.find('busy')]);
    expect(h.p.query('busy')).toMatchObject({ ok: true, version: 1, state: { balance: 3 } });
    expect(h.actors().size).toBe(0);
    expect(h.p.queuedFor('busy')).toBe(0);
    expect(h.p.queuedFor('queued')).toBe(0);
    expect(h.p.dedupeSize).toBe(before - 2);
    expect(h.p.committedSeq).toBe(h.p.lastSeq);
    expect(h.p.inflightCount).toBe(0);
  });

  it('a snapshot walked in slices while updates proceed equals the one taken at once when it began', async () => {
    const h = harness();
    for (let i = 0; i < 5000; i++) h.submit(`acct${i % 3000}`, 1 + (i % 7));
    h.run();
    h.p.release(4000); // 1000 turns still ahead of the gate
    const atOnce = h.p.captureSnapshot();
    const walk = h.p.beginSnapshot();
    const first = walk.nextAssets(100);
    // Meanwhile: releases of the pending turns, new turns on assets read and unread, new assets.
    h.p.release(4500);
    for (let i = 0; i < 2000; i++) h.submit(`acct${(i * 7) % 3500}`, 2);
    h.run();
    h.p.release(h.p.lastSeq);
    const rest = await encoded(walk);
    expect(walk.seq).toBe(4000);
    expect(byAsset([...first, ...rest.assets])).toEqual(byAsset(atOnce.assets));
    expect(rest.dedupe).toEqual((await encoded(imageSource(atOnce))).dedupe);
    expect(rest.dedupe).toHaveLength(4000);
  });

  it("a follower's walk is exact too, and a replaced state abandons it with a clear error", () => {
    const h = harness();
    for (let i = 0; i < 300; i++) h.submit(`acct${i % 50}`, 1);
    h.run();
    h.p.release(h.p.lastSeq);
    const f = harness();
    f.p.accepting = false;
    for (const r of h.records.slice(0, 200)) f.p.applyRecord(r.epoch, r.seq, r.payload);
    const atOnce = f.p.captureSnapshot();
    const walk = f.p.beginSnapshot();
    for (const r of h.records.slice(200)) f.p.applyRecord(r.epoch, r.seq, r.payload);
    const assets = [];
    for (let s = walk.nextAssets(7); s.length > 0; s = walk.nextAssets(7)) assets.push(...s);
    expect(byAsset(assets)).toEqual(byAsset(atOnce.assets));
    const walk2 = f.p.beginSnapshot();
    f.p.reset();
    expect(() => walk2.nextAssets(10)).toThrow(/abandoned: the node's state was replaced/);
  });

  it('the digest does not depend on the order assets were created in, and sliced equals at once', async () => {
    const a = harness();
    const b = harness();
    for (let i = 0; i < 200; i++) a.submit(`x${i}`, i + 1);
    for (let i = 199; i >= 0; i--) b.submit(`x${i}`, i + 1);
    a.run();
    b.run();
    a.p.release(a.p.lastSeq);
    b.p.release(b.p.lastSeq);
    expect(a.p.digest().digest).toBe(b.p.digest().digest);
    expect(await a.p.digestSliced(async () => undefined)).toEqual(a.p.digest());
    b.submit('x0', 1);
    b.run();
    b.p.release(b.p.lastSeq);
    expect(b.p.digest().digest).not.toBe(a.p.digest().digest);
  });
});

describe('the dedupe table as columns', () => {
  const entryOf = (i: number) => {
    const e = DedupeTable.entry(`request-id-${i}`, `acct-${i % 7}`, 'credit', { amount: i });
    e.ok = true;
    e.outcome = { balance: i };
    e.version = i;
    e.epoch = 2;
    return e;
  };

  it('answers a remembered id with its reply rebuilt from the row, after the live object is gone', () => {
    const t = new DedupeTable({ countMin: 10, retainMs: 0, countMax: 10 });
    const e = t.admit({ id: 'request-id-1', asset: 'acct-1', op: 'credit', args: { amount: 1 } });
    expect(t.size).toBe(1);
    e.ok = true;
    e.outcome = { balance: 1 };
    e.version = 1;
    t.stamp(e, 1, 100);
    t.settle(e);
    const again = t.get('request-id-1')!;
    expect(again).not.toBe(e);
    expect(replyOf(again)).toEqual(replyOf(e));
    expect(DedupeTable.sameRequest(again, { id: 'request-id-1', asset: 'acct-1', op: 'credit', args: { amount: 1 } })).toBe(true);
    for (let i = 2; i <= 11; i++) t.insert(entryOf(i), i, 100 + i);
    expect(t.get('request-id-1')).toBeUndefined();
    expect(t.size).toBe(10);
  });

  it('a snapshot reading rows in slices gets them as they were, while eviction and slot reuse go on', () => {
    const t = new DedupeTable({ countMin: 100, retainMs: 0, countMax: 100 });
    for (let i = 1; i <= 100; i++) t.insert(entryOf(i), i, i);
    const expected = Array.from({ length: 100 }, (_, k) => t.rowAt(k));
    const rows = t.rowsUpTo(100);
    const got = rows.take(10);
    // 300 more: the first rows are evicted, and their slots (the ring holds 128) reused twice over.
    for (let i = 101; i <= 400; i++) t.insert(entryOf(i), i, i);
    for (let r = rows.take(7); r.length > 0; r = rows.take(7)) got.push(...r);
    expect(got).toEqual(expected);
    expect(got[99]).toEqual(['request-id-100', 'acct-2', 'credit', { amount: 100 }, 100, 100, 2, 100, true, { balance: 100 }]);
    expect(t.get('request-id-400')?.seq).toBe(400);
    expect(t.get('request-id-300')).toBeUndefined();
  });
});
