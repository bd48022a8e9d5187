// A small application on the packed client: credits an account, meets a refusal,
// retries an id (the pair answers with the original reply, applying nothing twice),
// and reads the account back. Prints one JSON line; exit 0 when all went as expected.
import { connect } from '@nats-io/transport-node';
import { TxClient, TxError } from '@txtest/client';

const nc = await connect({ servers: process.env.TXTEST_NATS_URL ?? 'nats://127.0.0.1:4222' });
const client = new TxClient(nc, { cluster: process.env.TXTEST_CLUSTER ?? 'default' });
const asset = process.env.EXAMPLE_ASSET ?? 'example-acct';
try {
  const credits = [];
  for (let i = 1; i <= 10; i++) credits.push(await client.update({ id: `${asset}-credit-${i}`, asset, op: 'credit', args: { amount: i }, model: 'account' }));
  const again = await client.update({ id: `${asset}-credit-10`, asset, op: 'credit', args: { amount: 10 }, model: 'account' });
  const refused = await client.update({ asset, op: 'debit', args: { amount: 1_000_000 } });
  let conflict = null;
  try {
    await client.update({ id: `${asset}-credit-1`, asset, op: 'credit', args: { amount: 99 } });
  } catch (err) {
    if (!(err instanceof TxError)) throw err;
    conflict = err.code;
  }
  const q = await client.query(asset);
  const summary = {
    balance: q?.state.balance,
    version: q?.version,
    retrySameReply: JSON.stringify(again) === JSON.stringify(credits[9]),
    refused: refused.ok ? null : refused.error.code,
    conflict,
  };
  console.log(JSON.stringify(summary));
  process.exitCode =
    summary.balance === 55 && summary.version === 10 && summary.retrySameReply && summary.refused === 'REJECTED' && conflict === 'ID_CONFLICT' ? 0 : 1;
} finally {
  client.close();
  await nc.close();
}
