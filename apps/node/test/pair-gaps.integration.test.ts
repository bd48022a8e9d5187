/**
 * Gap handling: a transport wrapper drops some replication batches on their way to the
 * standby (as core NATS may under a slow consumer or reconnect). The standby notices
 * the gap by seq, asks for a resend, and ends with exactly the primary's state; no
 * acknowledged update is lost. Two in-process nodes on a real nats-server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getModel } from '@txtest/models';
import { TxNode, type Logger, type PublishOptions, type Transport } from '@txtest/cluster';
import { TxClient } from '@txtest/client';
import { NodeKind, subjects } from '@txtest/protocol';
import { FsEpochStorage, FsLogStorage } from '@txtest/storage-fs';
import { CreditAudit, startNatsServer, type NatsServerHandle } from '@txtest/testkit';
import { NatsTransport } from '@txtest/transport-nats';
import { systemClock } from '../src/system-clock';

let nats: NatsServerHandle;
const conns: NatsConnection[] = [];
let dir: string;

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: false });
  dir = mkdtempSync(join(tmpdir(), 'txtest-gaps-'));
});

afterAll(async () => {
  await Promise.all(conns.map((c) => c.close()));
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Drops every `every`-th REPLICATE message sent to `victim`, counting them. */
class DroppingTransport implements Transport {
  dropped = 0;
  private seen = 0;
  constructor(private readonly inner: Transport, private readonly victimSubject: string, private readonly every: number) {}
  subscribe: Transport['subscribe'] = (s, h, o) => this.inner.subscribe(s, h, o);
  request: Transport['request'] = (s, d, t) => this.inner.request(s, d, t);
  flush: Transport['flush'] = () => this.inner.flush();
  publish(subject: string, data: Uint8Array, opts?: PublishOptions): void {
    if (subject === this.victimSubject && data[0] === NodeKind.REPLICATE && ++this.seen % this.every === 0) {
      this.dropped++;
      return;
    }
    this.inner.publish(subject, data, opts);
  }
}

function logger(lines: string[]): Logger {
  const put = (o: object, msg?: string) => void lines.push(`${msg ?? ''} ${JSON.stringify(o)}`);
  return { debug: () => undefined, info: put, warn: put, error: put };
}

/** Resolves when `node` reaches `role` (from its role-change callback). */
const reachedRole = new Map<string, (role: string) => void>();
function roleReached(id: string, role: string): Promise<void> {
  return new Promise((resolve) => reachedRole.set(`${id}:${role}`, () => resolve()));
}

async function node(tag: string, id: string, peer: string, transport: Transport, lines: string[], ringBytes?: number): Promise<TxNode> {
  const n = new TxNode({
    ...(ringBytes === undefined ? {} : { replicationRingBytes: ringBytes }),
    onRoleChange: (c) => reachedRole.get(`${id}:${c.to}`)?.(c.to),
    nodeId: id, peerId: peer, subjects: subjects('txtest', tag), transport, clock: systemClock, defer: queueMicrotask,
    logStorage: new FsLogStorage(join(dir, tag, id, 'log')), epochStorage: new FsEpochStorage(join(dir, tag, id)), log: logger(lines), getModel,
    fsync: { kind: 'interval', ms: 5 }, bodyBytesMax: 65536, snapshotEveryRecords: 0, segmentBytesMax: 1 << 26, repairLog: false,
    heartbeatIntervalMs: 50, heartbeatMissed: 20, statusExtras: () => ({ pid: process.pid, http: '' }),
  });
  await n.start();
  return n;
}

async function gapScenario(tag: string, ringBytes?: number): Promise<{ lines1: string[]; lines2: string[] }> {
  const [nc1, nc2, ncc] = await Promise.all([0, 1, 2].map(() => connect({ servers: nats.url, noAsyncTraces: true })));
  conns.push(nc1!, nc2!, ncc!);
  const s = subjects('txtest', tag);
  const dropping = new DroppingTransport(new NatsTransport(nc1!), s.node('n2'), 5);
  const lines1: string[] = [];
  const lines2: string[] = [];
  const ready = Promise.all([roleReached('n1', 'primary'), roleReached('n2', 'standby')]);
  const [n1, n2] = await Promise.all([node(tag, 'n1', 'n2', dropping, lines1, ringBytes), node(tag, 'n2', 'n1', new NatsTransport(nc2!), lines2)]);
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
  expect(dropping.dropped).toBeGreaterThan(0);
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

  it('with a tiny in-memory ring the resend comes from the primary\'s log, with no loss', async () => {
    // 2 KiB keeps only a few frames in memory: resends have to read the log.
    const { lines1 } = await gapScenario('gaplog', 2048);
    expect(lines1.some((l) => l.startsWith('resending from the log'))).toBe(true);
  });
});
