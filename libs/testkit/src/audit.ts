/**
 * The client-side audit of the process tests: every acknowledged credit is remembered,
 * and at the end each account's balance and version must equal what the acks add up
 * to (no loss, no double apply), seqs are unique, and a retried id returns its
 * original reply field for field.
 */
import type { TxClient, UpdateResult } from '@txtest/client';

export interface AckedCredit {
  id: string;
  asset: string;
  amount: number;
  reply: UpdateResult;
}

export class CreditAudit {
  readonly acked: AckedCredit[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];

  record(a: AckedCredit): void {
    this.acked.push(a);
    if (this.waiters.length > 0) {
      const n = this.acked.length;
      this.waiters = this.waiters.filter((w) => (n >= w.n ? (w.resolve(), false) : true));
    }
  }

  /** Resolves once `n` acks have been recorded in all. */
  whenAcked(n: number): Promise<void> {
    if (this.acked.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  /** Problems found, as sentences; empty when the audit is clean. */
  async check(client: TxClient, retrySample = 50): Promise<string[]> {
    const problems: string[] = [];
    const expected = new Map<string, { balance: number; version: number }>();
    const seqs = new Map<number, string>();
    for (const a of this.acked) {
      if (!a.reply.ok) problems.push(`update ${a.id} was not ok: ${JSON.stringify(a.reply)}`);
      const e = expected.get(a.asset) ?? { balance: 0, version: 0 };
      e.balance += a.amount;
      e.version += 1;
      expected.set(a.asset, e);
      const other = seqs.get(a.reply.seq);
      if (other !== undefined) problems.push(`seq ${a.reply.seq} was acked for both ${other} and ${a.id}`);
      seqs.set(a.reply.seq, a.id);
    }
    for (const [asset, e] of expected) {
      const q = await client.query(asset);
      const got = q === null ? { balance: 0, version: 0 } : { balance: (q.state as { balance: number }).balance, version: q.version };
      if (got.balance !== e.balance || got.version !== e.version) {
        problems.push(`${asset}: balance ${got.balance} version ${got.version}, acks add up to balance ${e.balance} version ${e.version}`);
      }
    }
    const step = Math.max(1, Math.floor(this.acked.length / retrySample));
    for (let i = 0; i < this.acked.length; i += step) {
      const a = this.acked[i]!;
      const again = await client.update({ id: a.id, asset: a.asset, op: 'credit', args: { amount: a.amount } });
      if (JSON.stringify(again) !== JSON.stringify(a.reply))
        problems.push(`retry of ${a.id} answered ${JSON.stringify(again)}, not the original ${JSON.stringify(a.reply)}`);
    }
    return problems;
  }
}

/** Runs `total` credits from `clients` x `perClient` workers; calls `atAck(n)` after each ack. */
export async function creditLoad(
  prefix: string,
  clients: TxClient[],
  perClient: number,
  total: number,
  audit: CreditAudit,
  atAck: (n: number) => void,
): Promise<void> {
  let issued = 0;
  const worker = async (c: TxClient, w: number) => {
    while (issued < total) {
      const n = issued++;
      const asset = `${prefix}-${(n * 7 + w) % 53}`;
      const amount = 1 + (n % 11);
      const id = c.newId();
      const reply = await c.update({ id, asset, op: 'credit', args: { amount }, model: 'account' });
      audit.record({ id, asset, amount, reply });
      atAck(audit.acked.length);
    }
  };
  await Promise.all(clients.flatMap((c, i) => Array.from({ length: perClient }, (_, w) => worker(c, i * perClient + w))));
}
