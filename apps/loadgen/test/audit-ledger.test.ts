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
      ledger.result(u, r);
    }
    const replayed: UpdateInput[] = [];
    const client = { update: async (u: UpdateInput) => (replayed.push(u), replies.get(u.id!)!) } as unknown as TxClient;
    const partial = await ledger.finish(client);
    expect(partial.violations).toEqual([]);
    expect(replayed.length).toBeGreaterThan(0);
    const newest = 1 + 4_999 * 1_000;
    for (const u of replayed) expect(replies.get(u.id!)!.seq).toBeGreaterThan(newest - 1_000_000);
  });
});
