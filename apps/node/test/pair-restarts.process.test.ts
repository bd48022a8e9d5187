/**
 * The restart scenarios of docs/PAIR.md with real processes: one node fails and
 * comes back; both fail, in both kill orders and both start orders, with updates
 * acknowledged while one node ran solo: the node that was primary last must come back
 * as primary and nothing acknowledged may be lost. A node that starts alone and cannot
 * be sure it was the last primary waits, not ready.
 */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TxClient } from '@txtest/client';
import { CreditAudit, nodeStatus, startNatsServer, TestPair, type NatsServerHandle } from '@txtest/testkit';

let nats: NatsServerHandle;
let nc: NatsConnection;
let pair: TestPair | null = null;

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
});

afterEach(async () => {
  await pair?.close();
  pair = null;
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

/** Each scenario gets its own cluster name, so arbiter keys and subjects never mix. */
let clusterNo = 0;

async function freshPair(extra: string[] = []): Promise<{ p: TestPair; c: TxClient; audit: CreditAudit; credit: (n: number) => Promise<void> }> {
  const cluster = `restart${++clusterNo}`;
  const p = new TestPair({ natsUrl: nats.url, args: ['--cluster', cluster, ...extra] });
  pair = p;
  await Promise.all([p.start('n1'), p.start('n2')]);
  await Promise.all([p.waitRole('n1', 'primary'), p.waitRole('n2', 'standby')]);
  const c = new TxClient(nc, { cluster, attemptTimeoutMs: 500, deadlineMs: 60_000 });
  const audit = new CreditAudit();
  let k = 0;
  const credit = async (n: number) => {
    await Promise.all(
      Array.from({ length: n }, async () => {
        const i = k++;
        const asset = `a${i % 13}`;
        const id = c.newId();
        const reply = await c.update({ id, asset, op: 'credit', args: { amount: 1 + (i % 5) }, model: 'account' });
        audit.record({ id, asset, amount: 1 + (i % 5), reply });
      }),
    );
  };
  return { p, c, audit, credit };
}

async function readyz(p: TestPair, id: string): Promise<number> {
  const s = await nodeStatus(nc, id, false, 'txtest', p.args(id).at(p.args(id).indexOf('--cluster') + 1)!);
  return (await fetch(`http://${s.http}/readyz`)).status;
}

describe('restart scenarios', () => {
  it('N1 runs and N2 fails: N1 goes on solo; a restarted N2 syncs and becomes standby', async () => {
    const { p, c, audit, credit } = await freshPair();
    await credit(200);
    await p.kill('n2');
    await p.waitRole('n1', 'solo');
    await credit(200);
    const restartedAt = Date.now();
    await p.start('n2');
    await Promise.all([p.waitRole('n2', 'standby'), p.waitRole('n1', 'primary', restartedAt)]);
    await credit(50);
    expect(await audit.check(c)).toEqual([]);
    c.close();
  });

  it('N2 standby and N1 fails: N2 takes over; a restarted N1 syncs and becomes standby (with --ack logged)', async () => {
    const { p, c, audit, credit } = await freshPair(['--ack', 'logged']);
    await credit(200);
    await p.kill('n1');
    await p.waitRole('n2', 'solo');
    await credit(200);
    await p.start('n1');
    await Promise.all([p.waitRole('n1', 'standby'), p.waitRole('n2', 'primary')]);
    expect(await audit.check(c)).toEqual([]);
    c.close();
  });

  describe.each([
    { killFirst: 'n2', last: 'n1' },
    { killFirst: 'n1', last: 'n2' },
  ])('both fail, $killFirst killed first (so $last was primary last, solo)', ({ killFirst, last }) => {
    const other = last === 'n1' ? 'n2' : 'n1';
    it.each(['last primary first', 'other node first'])('restart with the %s: the last primary comes back as primary, nothing acked is lost', async (order) => {
      const { p, c, audit, credit } = await freshPair();
      await credit(150);
      await p.kill(killFirst);
      await p.waitRole(last, 'solo');
      await credit(150); // acknowledged by the survivor alone: only its log has them
      await p.kill(last);

      if (order === 'last primary first') {
        await p.start(last);
        // Alone, it may serve only because the arbiter confirms it was the last primary.
        expect((await p.waitRole(last, 'promoting')).reason).toMatch(/arbiter confirms/);
        await p.waitRole(last, 'solo');
        await p.start(other);
      } else {
        await p.start(other);
        // Alone and not the last primary: it waits and is not ready.
        await p.node(other).waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('waiting for peer'));
        expect(await readyz(p, other)).toBe(503);
        await p.start(last);
      }
      await Promise.all([p.waitRole(last, 'primary'), p.waitRole(other, 'standby')]);
      expect(await audit.check(c)).toEqual([]);
      c.close();
    });
  });

  it('with --arbiter off, even the last primary started alone waits; --force-primary lets an operator start it', async () => {
    const { p, c, audit, credit } = await freshPair(['--arbiter', 'off']);
    await credit(100);
    await p.kill('n2');
    await p.kill('n1');
    await p.start('n1');
    await p.node('n1').waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('waiting for peer') && /no arbiter/.test(l.msg));
    expect(await readyz(p, 'n1')).toBe(503);
    await p.kill('n1');
    await p.start('n1', ['--force-primary']);
    expect((await p.waitRole('n1', 'promoting')).reason).toMatch(/forced by the operator/);
    await p.waitRole('n1', 'solo');
    await credit(50);
    expect(await audit.check(c)).toEqual([]);
    c.close();
  });
});
