/**
 * The drill's pre-growth: before the load starts, `n` accounts outside the load's own
 * assets are created (one credit each, 1,024 in flight, batched), so the pair fails over
 * with a large state and a full dedupe window. They are named `pregrow-acct-<i>`, which
 * no workload uses, so the audit (which checks the load's assets) is unaffected; the
 * digest comparison still covers them.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { TxClient } from '@txtest/client';

const IN_FLIGHT = 1024;

export async function pregrow(
  nc: NatsConnection,
  n: number,
  opts: { prefix: string; cluster: string; shards: number },
  say: (msg: string) => void,
): Promise<void> {
  const client = new TxClient(nc, { prefix: opts.prefix, cluster: opts.cluster, shards: opts.shards, batching: true, deadlineMs: 120_000 });
  const t0 = Date.now();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const r = await client.update({ asset: `pregrow-acct-${i}`, op: 'credit', args: { amount: 1 }, model: 'account' });
      if (!r.ok) throw new Error(`pre-growth credit of pregrow-acct-${i} was rejected: ${r.error.message}`);
      if (++done % 100_000 === 0) say(`pre-grown ${done} of ${n} accounts`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, n) }, worker));
  } finally {
    client.close();
  }
  say(`pre-grown ${n} accounts in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
