/**
 * Disk loss with real processes (PAIR.md, "Disk loss"): a pair acknowledges a few hundred
 * updates, both nodes are SIGKILLed, one node's data dir is replaced by an empty one,
 * and the two come back in either order, with and without the arbiter. Either every
 * acknowledged update is on the node that serves (balances, and equal digests on both
 * nodes once the other is standby), or the pair refuses to serve and says why in its
 * status and log; then --force-primary on the node it names gets it serving. Two more:
 * the last primary ran solo before it lost its disk (the refusal names exactly the seqs
 * it acknowledged alone, and forcing loses those and nothing else), and it lost only its
 * log dir, the epoch record kept (its record alone does not let it serve).
 *
 * The pairs run `--ack logged --fsync always`, so that a standby's log holds everything
 * it acknowledged the moment it is killed (with `--ack received` it holds it once the
 * write it issued lands: PAIR.md). Scenarios run concurrently on one nats-server, each
 * with its own cluster name.
 */
import { rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TxClient } from '@txtest/client';
import type { NodeStatus } from '@txtest/protocol';
import { CreditAudit, nodeStatus, startNatsServer, TestPair, type NatsServerHandle } from '@txtest/testkit';

let nats: NatsServerHandle;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

let clusterNo = 0;

interface Scenario {
  p: TestPair;
  cluster: string;
  c: TxClient;
  /** Credits on assets named `<prefix><k>`, each acknowledgement recorded in `audit`. */
  credit: (n: number, audit: CreditAudit, prefix?: string) => Promise<void>;
  status: (id: string, digest?: boolean) => Promise<NodeStatus | null>;
}

async function scenario(arbiter: 'kv' | 'off'): Promise<Scenario> {
  const cluster = `diskloss${++clusterNo}`;
  // A second of silence before a node gives up on its peer: the scenarios need n1 to stay
  // primary until it is killed, on a machine busy with all of them at once.
  const p = new TestPair({
    natsUrl: nats.url,
    heartbeatMissed: 20,
    args: ['--cluster', cluster, '--arbiter', arbiter, '--ack', 'logged', '--fsync', 'always'],
  });
  await Promise.all([p.start('n1'), p.start('n2')]);
  await Promise.all([p.waitRole('n1', 'primary'), p.waitRole('n2', 'standby')]);
  const c = new TxClient(nc, { cluster, attemptTimeoutMs: 500, deadlineMs: 30_000 });
  let k = 0;
  const credit = async (n: number, audit: CreditAudit, prefix = 'a') => {
    await Promise.all(
      Array.from({ length: n }, async () => {
        const i = k++;
        const asset = `${prefix}${i % 11}`;
        const id = c.newId();
        const amount = 1 + (i % 7);
        const reply = await c.update({ id, asset, op: 'credit', args: { amount }, model: 'account' });
        audit.record({ id, asset, amount, reply });
      }),
    );
  };
  const status = async (id: string, digest = false) => nodeStatus(nc, id, digest, 'txtest', cluster, 1000).catch(() => null);
  return { p, cluster, c, credit, status };
}

/** Polls `get` until `ok` holds (a deadline, not a sleep: each round asks the nodes again). */
async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await get();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms; last seen ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    last = await get();
  }
  return last;
}

/** Both nodes SIGKILLed in the same tick: neither can react to the other's death. */
async function killBoth(p: TestPair): Promise<void> {
  await Promise.all([p.kill('n1'), p.kill('n2')]);
}

/** The node's data dir replaced by an empty one (a lost disk); with `logOnly`, only its log dir (the epoch record kept). */
function wipe(p: TestPair, id: string, logOnly = false): void {
  const dir = join(p.dir, id, ...(logOnly ? ['log'] : []));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
}

/** Waits for `primary` to serve with `standby` attached and both at equal digests; returns the primary's status. */
async function converged(s: Scenario, primary: string, standby: string): Promise<void> {
  await until(
    `${primary} primary and ${standby} standby with equal digests`,
    async () => [await s.status(primary, true), await s.status(standby, true)] as const,
    ([a, b]) => a?.role === 'primary' && b?.role === 'standby' && a.appliedSeq === b.appliedSeq && a.digest === b.digest && a.lastSeq === a.committedSeq,
  );
}

/** Waits until node `id` reports that it waits, with `pred` true of what it says. */
async function waiting(s: Scenario, id: string, pred: (w: NonNullable<NodeStatus['waiting']>) => boolean): Promise<NonNullable<NodeStatus['waiting']>> {
  const st = await until(
    `${id} waiting`,
    () => s.status(id),
    (x) => x?.role === 'negotiating' && x.waiting !== undefined && pred(x.waiting),
  );
  return st!.waiting!;
}

async function readyz(s: Scenario, id: string): Promise<number> {
  const st = await s.status(id);
  return (await fetch(`http://${st!.http}/readyz`)).status;
}

/** A pair with acknowledged updates on both nodes, both killed; returns the epoch the primary n1 served last. */
async function loadedThenKilled(s: Scenario, audit: CreditAudit): Promise<number> {
  await s.credit(400, audit);
  const [n1, n2] = [await s.status('n1'), await s.status('n2')];
  expect([n1?.role, n2?.role]).toEqual(['primary', 'standby']);
  await killBoth(s.p);
  return n1!.epoch;
}

describe.concurrent('disk loss: both nodes killed, one data dir replaced by an empty one', () => {
  it('last primary wiped, started first, with the arbiter: it waits (the arbiter names it, its disk holds nothing); the standby then serves everything', async () => {
    const s = await scenario('kv');
    try {
      const audit = new CreditAudit();
      const epoch = await loadedThenKilled(s, audit);
      wipe(s.p, 'n1');
      await s.p.start('n1');
      const w = await waiting(s, 'n1', (x) => /holds nothing/.test(x.reason));
      expect(w.missing).toEqual([{ epoch, primary: 'n1', fromSeq: 1 }]);
      expect(await readyz(s, 'n1')).toBe(503);
      await s.p.start('n2');
      expect((await s.p.waitRole('n2', 'promoting')).reason).toMatch(/n2 has the more up-to-date log/);
      await converged(s, 'n2', 'n1');
      expect(await audit.check(s.c)).toEqual([]);
    } finally {
      s.c.close();
      await s.p.close();
    }
  });

  it('last primary wiped, started second, with the arbiter: the standby waits alone (forcing it would lose nothing), then serves everything', async () => {
    const s = await scenario('kv');
    try {
      const audit = new CreditAudit();
      await loadedThenKilled(s, audit);
      wipe(s.p, 'n1');
      await s.p.start('n2');
      const w = await waiting(s, 'n2', (x) => /only it may serve alone/.test(x.reason));
      expect(w.missing).toEqual([]);
      expect(w.reason).toMatch(/loses nothing/);
      await s.p.start('n1');
      await converged(s, 'n2', 'n1');
      expect(await audit.check(s.c)).toEqual([]);
    } finally {
      s.c.close();
      await s.p.close();
    }
  });

  it.each(['n1', 'n2'])(
    'last primary wiped, without the arbiter, %s started first: the pair refuses (the empty n1 may have gone on alone); --force-primary on n2 serves everything',
    async (first) => {
      const s = await scenario('off');
      try {
        const audit = new CreditAudit();
        const epoch = await loadedThenKilled(s, audit);
        const acked = Math.max(...audit.acked.map((a) => a.reply.seq));
        wipe(s.p, 'n1');
        await s.p.start(first);
        await s.p.start(first === 'n1' ? 'n2' : 'n1');
        for (const id of ['n1', 'n2']) {
          const w = await waiting(s, id, (x) => x.force !== undefined);
          expect(w).toMatchObject({
            force: 'n2',
            missing: [{ epoch: epoch + 1, primary: 'n1', fromSeq: acked + 1 }],
            reason: expect.stringMatching(/no arbiter/),
          });
          await s.p
            .node(id)
            .waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('neither node serves') && /pass --force-primary to n2/.test(l.msg));
        }
        expect(await readyz(s, 'n2')).toBe(503);
        await s.p.kill('n2');
        await s.p.start('n2', ['--force-primary']);
        expect((await s.p.waitRole('n2', 'promoting')).reason).toMatch(/forced by the operator/);
        await s.p.node('n2').waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('FORCED PRIMARY'));
        await converged(s, 'n2', 'n1');
        expect(await audit.check(s.c)).toEqual([]);
      } finally {
        s.c.close();
        await s.p.close();
      }
    },
  );

  it.each([
    ['kv', 'n1'],
    ['kv', 'n2'],
    ['off', 'n1'],
    ['off', 'n2'],
  ] as const)('standby wiped, arbiter %s, %s started first: the last primary serves everything, the wiped node syncs', async (arbiter, first) => {
    const s = await scenario(arbiter);
    try {
      const audit = new CreditAudit();
      await loadedThenKilled(s, audit);
      wipe(s.p, 'n2');
      await s.p.start(first);
      if (first === 'n1' && arbiter === 'kv') {
        // Alone, with the arbiter's word and a log that holds its epoch, it serves at once.
        expect((await s.p.waitRole('n1', 'promoting')).reason).toMatch(/arbiter confirms/);
        await s.p.waitRole('n1', 'solo');
      } else {
        await waiting(s, first, (x) => (arbiter === 'off' ? /no arbiter/ : /holds nothing|names n1/).test(x.reason));
      }
      await s.p.start(first === 'n1' ? 'n2' : 'n1');
      await converged(s, 'n1', 'n2');
      expect(await audit.check(s.c)).toEqual([]);
    } finally {
      s.c.close();
      await s.p.close();
    }
  });

  it('the last primary ran solo, then lost its disk: the survivor and then the pair refuse, naming the solo epoch and its seqs; forced, exactly those are gone', async () => {
    const s = await scenario('kv');
    try {
      const both = new CreditAudit();
      const soloOnly = new CreditAudit();
      await s.credit(300, both);
      expect((await s.status('n1'))?.role).toBe('primary');
      const killedAt = Date.now();
      await s.p.kill('n2');
      // The solo of this epoch, not the one the pair started with.
      await s.p.waitRole('n1', 'solo', killedAt);
      // Acknowledged by n1 alone, on assets of their own: only n1's log has them.
      await s.credit(100, soloOnly, 's');
      const solo = await s.status('n1');
      await s.p.kill('n1');
      wipe(s.p, 'n1');
      const fromSeq = Math.min(...soloOnly.acked.map((a) => a.reply.seq));
      expect(fromSeq).toBe(Math.max(...both.acked.map((a) => a.reply.seq)) + 1);
      const missing = [{ epoch: solo!.epoch, primary: 'n1', fromSeq }];

      await s.p.start('n2');
      expect((await waiting(s, 'n2', (x) => x.missing.length > 0)).missing).toEqual(missing);
      await s.p.start('n1');
      for (const id of ['n1', 'n2']) {
        const w = await waiting(s, id, (x) => x.force !== undefined);
        expect(w).toEqual({
          force: 'n2',
          missing,
          reason: `neither node serves: epoch ${solo!.epoch} (primary n1, records from seq ${fromSeq} on) is in no surviving log; it may hold acknowledged updates; pass --force-primary to n2 to go on without them`,
        });
      }
      await s.p.kill('n2');
      await s.p.start('n2', ['--force-primary']);
      await converged(s, 'n2', 'n1');
      expect(await both.check(s.c)).toEqual([]);
      for (const a of soloOnly.acked) expect(await s.c.query(a.asset)).toBeNull();
    } finally {
      s.c.close();
      await s.p.close();
    }
  });

  it('the last primary ran solo, then lost its log dir but kept its epoch record: alone it does not serve on its record, and the pair refuses', async () => {
    const s = await scenario('kv');
    try {
      const both = new CreditAudit();
      await s.credit(200, both);
      const killedAt = Date.now();
      await s.p.kill('n2');
      await s.p.waitRole('n1', 'solo', killedAt);
      await s.credit(50, new CreditAudit(), 's');
      const solo = await s.status('n1');
      await s.p.kill('n1');
      wipe(s.p, 'n1', true);
      // Its record still says primary of the solo epoch, which began at seq 201; its log now ends at 0.
      await s.p.start('n1');
      const alone = await waiting(s, 'n1', (x) => x.missing.length > 0);
      expect(alone.reason).toMatch(/log does not reach that epoch/);
      expect(alone.missing).toEqual([{ epoch: solo!.epoch, primary: 'n1', fromSeq: 1 }]);
      await s.p.start('n2');
      expect(await waiting(s, 'n2', (x) => x.force !== undefined)).toMatchObject({
        force: 'n2',
        missing: [{ epoch: solo!.epoch, primary: 'n1', fromSeq: 201 }],
      });
      await s.p.kill('n2');
      await s.p.start('n2', ['--force-primary']);
      await converged(s, 'n2', 'n1');
      expect(await both.check(s.c)).toEqual([]);
    } finally {
      s.c.close();
      await s.p.close();
    }
  });
});
