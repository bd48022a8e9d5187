// Compiled (not run) by `npm run check-types`: the package's type declarations, as an
// application with Node's own module resolution sees them.
import type { NatsConnection } from '@nats-io/nats-core';
import { TxClient, TxError, type UpdateResult } from '@txtest/client';

export async function credit(nc: NatsConnection, asset: string, amount: number): Promise<number> {
  const client = new TxClient(nc, { cluster: 'default', deadlineMs: 5_000 });
  try {
    const r: UpdateResult = await client.update({ asset, op: 'credit', args: { amount }, model: 'account' });
    return r.version;
  } catch (err) {
    const code: TxError['code'] | undefined = err instanceof TxError ? err.code : undefined;
    throw new Error(`credit failed: ${code ?? String(err)}`, { cause: err });
  } finally {
    client.close();
  }
}
