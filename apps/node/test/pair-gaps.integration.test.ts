/**
 * Gap handling: a transport wrapper drops some replication batches on their way to the
 * standby (as core NATS may under a slow consumer or reconnect). The standby notices
 * the gap by seq, asks for a resend, and ends with exactly the primary's state; no
 * acknowledged update is lost. Two in-process nodes on a real nats-server.
 */
import { describe, expect, it } from 'vitest';
import { TxClient } from '@txtest/client';
import { NodeKind, subjects } from '@txtest/protocol';
import { CreditAudit } from '@txtest/testkit';
import { NatsTransport } from '@txtest/transport-nats';
import { inProcessSuite, TapTransport } from './helpers/in-process-pair';

const suite = inProcessSuite('txtest-gaps-');

/** Drops every `every`-th REPLICATE message sent to `victimSubject`, counting them. */
function dropping(inner: NatsTransport, victimSubject: string, every: number): TapTransport & { dropped: number } {
  let seen = 0;
  const t = new TapTransport(inner, (subject, data) => {
    if (subject === victimSubject && data[0] === NodeKind.REPLICATE && ++seen % every === 0) {
      t.dropped++;
      return false;
    }
    return true;
  }) as TapTransport & { dropped: number };
  t.dropped = 0;
  return t;
}

async function gapScenario(tag: string, ringBytes?: number): Promise<{ lines1: string[]; lines2: string[] }> {
  const [nc1, nc2, ncc] = await suite.connections(3);
  const s = subjects('txtest', tag);
  const lossy = dropping(new NatsTransport(nc1!), s.node('n2'), 5);
  const lines1: string[] = [];
  const lines2: string[] = [];
  const ready = Promise.all([suite.nodes().roleReached(tag, 'n1', 'primary'), suite.nodes().roleReached(tag, 'n2', 'standby')]);
  const [n1, n2] = await Promise.all([
    suite.nodes().start(tag, 'n1', 'n2', lossy, lines1, ringBytes === undefined ? {} : { replicationRingBytes: ringBytes }),
    suite.nodes().start(tag, 'n2', 'n1', new NatsTransport(nc2!), lines2),
  ]);
  await ready;
  const client = new TxClient(ncc!, { cluster: tag, batching: false, attemptTimeoutMs: 2000 });
  const audit = new CreditAudit();
  await Promise.all(
    Array.from({ length: 32 }, async (_, w) => {
      for (let i = 0; i < 40; i++) {
        const asset = `g${(w + i) % 9}`;
        const id = client.newId();
        audit.record({ id, asset, amount: 2, reply: await client.update({ id, asset, op: 'credit', args: { amount: 2 }, model: 'account' }) });
      }
    }),
  );
  expect(lossy.dropped).toBeGreaterThan(0);
  expect(lines2.some((l) => l.startsWith('gap in the replication stream'))).toBe(true);
  expect(lines1.some((l) => l.startsWith('standby reported a gap'))).toBe(true);
  expect(await audit.check(client)).toEqual([]);
  // Every ack waited for the standby, so it holds everything the primary committed.
  expect(n2.processor.lastSeq).toBeGreaterThanOrEqual(n1.processor.committedSeq);
  expect(n2.processor.digest().digest).toBe(n1.processor.digest().digest);
  client.close();
  await Promise.all([n1.stop(), n2.stop()]);
  return { lines1, lines2 };
}

describe('replication gaps', () => {
  it('dropped replication batches are detected by seq and repaired by resend from memory, with no loss', async () => {
    await gapScenario('gapmem');
  });

  it("with a tiny in-memory ring the resend comes from the primary's log, with no loss", async () => {
    // 2 KiB keeps only a few frames in memory: resends have to read the log.
    const { lines1 } = await gapScenario('gaplog', 2048);
    expect(lines1.some((l) => l.startsWith('resending from the log'))).toBe(true);
  });
});
