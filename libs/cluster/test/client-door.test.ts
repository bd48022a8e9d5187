/**
 * The client door on a real processor, with replies from the standby
 * (`Processor.replyOnApply`): where each reply goes (forwarded to the standby, published
 * now, or held until the watermark reaches it) and a query that reads the client's own
 * writes although the primary has not seen them confirmed yet.
 */
import { describe, expect, it } from 'vitest';
import { Processor } from '@txtest/actors';
import { getModel } from '@txtest/models';
import { decodeBody, encodeBody, shardOf, UNSHARDED, type ShardSpec } from '@txtest/protocol';
import { ClientDoor } from '../src/serving/client-door';
import type { Transport } from '../src/transport';
import { ManualClock } from './helpers/manual-clock';

function harness(standbyTakes = true, shard: ShardSpec = UNSHARDED) {
  const deferred: (() => void)[] = [];
  const p = new Processor({ clock: new ManualClock(), defer: (fn) => deferred.push(fn), getModel, onRecord: () => undefined, onEvent: () => undefined });
  p.accepting = true;
  p.epoch = 1;
  p.replyOnApply = true;
  const published: [string, unknown][] = [];
  const forwarded: [string, unknown][] = [];
  const transport = { publish: (subject: string, data: Uint8Array) => void published.push([subject, body(data)]) } as unknown as Transport;
  const door = new ClientDoor(
    p,
    transport,
    64 * 1024,
    (subject, data) => {
      if (standbyTakes) forwarded.push([subject, body(data)]);
      return standbyTakes;
    },
    shard,
  );
  const tx = (replyTo: string, value: unknown) => {
    door.onTx(encodeBody(value, 'msgpack'), replyTo, false);
    while (deferred.length > 0) deferred.shift()!();
  };
  const query = (replyTo: string, asset: string) => door.onQuery(encodeBody({ asset }, 'msgpack'), replyTo, false);
  return { p, door, tx, query, published, forwarded };
}

function body(data: Uint8Array): unknown {
  const d = decodeBody(data, 'msgpack');
  if (!d.ok) throw new Error(d.message);
  return d.value;
}

const credit = (id: string, asset = 'a') => ({ id, asset, op: 'credit', args: { amount: 5 }, model: 'account' });

describe('client door, replies from the standby', () => {
  it('forwards an outcome heard at its turn to the standby, and publishes nothing itself', () => {
    const h = harness();
    h.tx('inbox.1', credit('u1'));
    expect(h.forwarded).toEqual([['inbox.1', expect.objectContaining({ id: 'u1', ok: true, seq: 1 })]]);
    expect(h.published).toEqual([]);
    // The release commits it; the reply is not sent a second time.
    h.p.release(1);
    expect(h.published).toEqual([]);
  });

  it('publishes at once what reveals nothing uncommitted: a refusal, a retry of a committed id', () => {
    const h = harness();
    h.tx('inbox.1', { id: 'bad', asset: 'a', op: 'credit' });
    expect(h.published).toEqual([['inbox.1', expect.objectContaining({ ok: false, error: expect.objectContaining({ code: 'BAD_REQUEST' }) })]]);
    h.tx('inbox.2', credit('u1'));
    h.p.release(1);
    h.tx('inbox.3', credit('u1'));
    expect(h.published[1]).toEqual(['inbox.3', expect.objectContaining({ id: 'u1', ok: true, seq: 1 })]);
    expect(h.forwarded.map((f) => f[0])).toEqual(['inbox.2']);
  });

  it('holds a reply until its updates commit when no standby takes it', () => {
    const h = harness(false);
    h.tx('inbox.1', { batch: [credit('u1'), credit('u2', 'b')] });
    expect(h.published).toEqual([]);
    h.p.release(1);
    expect(h.published).toEqual([]);
    h.p.release(2);
    expect(h.published).toEqual([['inbox.1', { batch: [expect.objectContaining({ id: 'u1' }), expect.objectContaining({ id: 'u2' })] }]]);
  });

  it("a query waits for what was applied when it came: a client's ok from the standby is never read back as missing", () => {
    const h = harness();
    h.tx('inbox.1', credit('u1'));
    h.door.onQuery(encodeBody({ asset: 'a' }, 'msgpack'), 'inbox.q', false);
    expect(h.published).toEqual([]);
    h.p.release(1);
    expect(h.published).toEqual([['inbox.q', expect.objectContaining({ ok: true, asset: 'a', version: 1, state: { balance: 5 } })]]);
  });

  it('drops what waits for the watermark when the node stops serving (the clients retry elsewhere)', () => {
    const h = harness(false);
    h.tx('inbox.1', credit('u1'));
    h.door.onQuery(encodeBody({ asset: 'a' }, 'msgpack'), 'inbox.q', false);
    h.p.abandonPending();
    h.p.release(5);
    expect(h.published).toEqual([]);
  });
});

/** An asset id of `shard` in a cluster of `count` (found by trying, as a client would hash). */
function assetOf(shard: number, count: number): string {
  for (let i = 0; ; i++) if (shardOf(`acct-${i}`, count) === shard) return `acct-${i}`;
}

describe('client door of one shard (section 12)', () => {
  it('refuses an update, a batch entry and a query for another shard with WRONG_SHARD naming the owner, and applies nothing of them', () => {
    const h = harness(false, { index: 0, count: 2 });
    const mine = assetOf(0, 2);
    const theirs = assetOf(1, 2);
    h.tx('inbox.1', credit('u1', theirs));
    expect(h.published).toEqual([
      ['inbox.1', { id: 'u1', ok: false, error: { code: 'WRONG_SHARD', message: expect.stringContaining('belongs to shard 1 of 2') } }],
    ]);
    h.tx('inbox.2', { batch: [credit('u2', mine), credit('u3', theirs), credit('u4', mine)] });
    h.p.release(2);
    const reply = h.published[1]![1] as { batch: { id: string; ok: boolean; seq?: number; error?: { code: string } }[] };
    expect(reply.batch.map((r) => [r.id, r.ok, r.error?.code ?? r.seq])).toEqual([
      ['u2', true, 1],
      ['u3', false, 'WRONG_SHARD'],
      ['u4', true, 2],
    ]);
    expect(h.p.assetCount).toBe(1);
    expect(h.p.lastSeq).toBe(2);
    h.query('inbox.3', theirs);
    expect(h.published[2]).toEqual(['inbox.3', { ok: false, error: { code: 'WRONG_SHARD', message: expect.stringContaining('shard 1 of 2') } }]);
    h.query('inbox.4', mine);
    expect(h.published[3]).toEqual(['inbox.4', expect.objectContaining({ ok: true, asset: mine })]);
    expect(h.door.errors.WRONG_SHARD).toBe(3);
  });

  it('checks nothing in a cluster of one shard', () => {
    const h = harness(false);
    h.tx('inbox.1', credit('u1', assetOf(1, 2)));
    h.p.release(1);
    expect(h.published).toEqual([['inbox.1', expect.objectContaining({ id: 'u1', ok: true, seq: 1 })]]);
  });
});
