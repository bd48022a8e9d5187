/**
 * The audit's end-of-run replays: a retry of an acked id must return its original reply
 * only while the server still remembers the id (at least the last 1,000,000 records,
 * PROTOCOL.md section 3), so the replays are drawn from the newest records only. Drawn
 * over a whole 49-million-record drill, they re-sent ids the server had rightly forgotten
 * and the audit reported their second application as a double apply.
 */
import { describe, expect, it } from 'vitest';
import type { TxClient, UpdateInput, UpdateResult } from '@txtest/client';
import { AuditLedger } from '../src/audit-ledger';

describe('AuditLedger replays', () => {
  it('replays only acks from the newest million records, and compares their replies', async () => {
    const ledger = new AuditLedger('account');
    const replies = new Map<string, UpdateResult>();
    // 5,000 acks spread over 5,000,000 records.
    for (let i = 0; i < 5_000; i++) {
      const u: UpdateInput = { id: `u${i}`, asset: `a${i % 10}`, op: 'credit', args: { amount: 1 } };
      const r = {
        id: u.id!,
        ok: true,
        asset: u.asset,
        version: Math.floor(i / 10) + 1,
        seq: 1 + i * 1_000,
        epoch: 1,
        result: { balance: 0 },
      } as unknown as UpdateResult;
      replies.set(u.id!, r);
      ledger.result(u, r, 0);
    }
    const replayed: UpdateInput[] = [];
    const client = { update: async (u: UpdateInput) => (replayed.push(u), replies.get(u.id!)!) } as unknown as TxClient;
    const partial = await ledger.finish(client);
    expect(partial.violations).toEqual([]);
    expect(replayed.length).toBeGreaterThan(0);
    const newest = 1 + 4_999 * 1_000;
    for (const u of replayed) expect(replies.get(u.id!)!.seq).toBeGreaterThan(newest - 1_000_000);
  });

  it("keeps each shard's seqs apart: equal seqs of two pairs are no violation, one seq acked twice in a pair is", async () => {
    const ledger = new AuditLedger('account');
    const ack = (id: string, asset: string, seq: number) =>
      ({ id, ok: true, asset, version: 1, seq, epoch: 1, result: { balance: 1 } }) as unknown as UpdateResult;
    const u = (id: string, asset: string): UpdateInput => ({ id, asset, op: 'credit', args: { amount: 1 } });
    ledger.result(u('x0', 'a'), ack('x0', 'a', 7), 0);
    ledger.result(u('x1', 'b'), ack('x1', 'b', 7), 1);
    expect((await ledger.finish({ update: async (v: UpdateInput) => ack(v.id!, v.asset, 7) } as unknown as TxClient)).violations).toEqual([]);
    const twice = new AuditLedger('account');
    twice.result(u('y0', 'a'), ack('y0', 'a', 9), 1);
    twice.result(u('y1', 'c'), ack('y1', 'c', 9), 1);
    const partial = await twice.finish({ update: async (v: UpdateInput) => ack(v.id!, v.asset, 9) } as unknown as TxClient);
    expect(partial.violations[0]).toBe('seq 9 of shard 1 was acked to two different updates (the second: y1)');
  });
});
