/**
 * Tail or snapshot for a standby that rejoins far behind. A standby stops; the primary
 * goes on alone for more records than `syncTailRecordsMax`; the standby comes back with
 * its log intact. When the primary's newest snapshot is older than the joiner's own
 * state, streaming it would make the joiner replay more than the tail it stands in for
 * (at a million assets under load such a joiner never caught up): it takes the tail. When
 * the newest snapshot spares it more than `syncTailRecordsMax` records, it takes the
 * snapshot. Two in-process nodes on a real nats-server.
 */
import { describe, expect, it } from 'vitest';
import { TxClient } from '@txtest/client';
import { NatsTransport } from '@txtest/transport-nats';
import { inProcessSuite } from './helpers/in-process-pair';

const suite = inProcessSuite('txtest-sync-tail-');

const SNAPSHOT_EVERY = 5000;
const TAIL_MAX = 1000;

async function credit(client: TxClient, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i += 500) {
    const n = Math.min(500, from + count - i);
    await Promise.all(
      Array.from({ length: n }, (_, k) =>
        client.update({ id: client.newId(), asset: `acct-${(i + k) % 3000}`, op: 'credit', args: { amount: 1 }, model: 'account' }),
      ),
    );
  }
}

async function waitFor(what: string, lines: string[], done: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: ${lines.slice(-5).join(' | ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The pair takes 6,000 updates (n1 writes its snapshot at 5,000), n2 stops, n1 takes
 * `alone` more by itself, and n2 comes back: what n1 logged while bringing it back.
 */
async function rejoinAfter(tag: string, alone: number): Promise<{ lines1: string[]; lines2: string[] }> {
  const [nc1, nc2, ncc] = await suite.connections(3);
  const lines1: string[] = [];
  const lines2: string[] = [];
  const options = { snapshotEveryRecords: SNAPSHOT_EVERY, syncTailRecordsMax: TAIL_MAX };
  const nodes = suite.nodes();
  const paired = Promise.all([nodes.roleReached(tag, 'n1', 'primary'), nodes.roleReached(tag, 'n2', 'standby')]);
  const n1 = await nodes.start(tag, 'n1', 'n2', new NatsTransport(nc1!), lines1, { ...options, forcePrimary: true });
  let n2 = await nodes.start(tag, 'n2', 'n1', new NatsTransport(nc2!), lines2, options);
  const client = new TxClient(ncc!, { cluster: tag, attemptTimeoutMs: 2000 });
  try {
    await paired;
    await credit(client, 0, 6000);
    const snapshots = () => lines1.filter((l) => l.startsWith('snapshot written')).length;
    await waitFor('no snapshot on n1', lines1, () => snapshots() >= 1);
    const solo = nodes.roleReached(tag, 'n1', 'solo');
    await n2.stop();
    await solo;
    const left = n2.processor.lastSeq;
    await credit(client, 6000, alone);
    const expected = Math.floor(n1.processor.lastSeq / SNAPSHOT_EVERY);
    await waitFor('snapshots behind', lines1, () => snapshots() >= expected);
    lines1.length = 0;
    const back = nodes.roleReached(tag, 'n2', 'standby');
    n2 = await nodes.start(tag, 'n2', 'n1', new NatsTransport(nc2!), lines2, options);
    await back;
    expect(n1.processor.lastSeq - left).toBeGreaterThan(TAIL_MAX);
    expect(n2.processor.lastSeq).toBe(n1.processor.lastSeq);
    expect(n2.processor.digest().digest).toBe(n1.processor.digest().digest);
    return { lines1, lines2 };
  } finally {
    client.close();
    await Promise.all([n1.stop(), n2.stop()]);
  }
}

describe('a standby that rejoins more than syncTailRecordsMax behind', () => {
  it('takes the tail when the newest snapshot is older than its own state', async () => {
    const { lines1 } = await rejoinAfter('tail', 3000);
    expect(lines1.some((l) => l.startsWith('standby joins far behind, but the newest snapshot would spare it too few records'))).toBe(true);
    expect(lines1.some((l) => l.startsWith('streaming the newest snapshot file'))).toBe(false);
  });

  it('takes the snapshot when it spares more than that', async () => {
    const { lines1, lines2 } = await rejoinAfter('snap', 10_000);
    expect(lines1.some((l) => l.startsWith('streaming the newest snapshot file'))).toBe(true);
    expect(lines2.some((l) => l.startsWith("installed the primary's snapshot"))).toBe(true);
  });
});
