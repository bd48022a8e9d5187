/**
 * txtest-admin status and switchover against a real pair (SIGKILL-able processes, a
 * JetStream arbiter, a cluster key): the status table shows both nodes; an unsigned
 * switchover is refused by a node holding a key; a signed one under load swaps the
 * roles without stopping a process, and back again, with every acknowledged update
 * there exactly once and equal digests.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TxClient } from '@txtest/client';
import { CreditAudit, creditLoad, nodeStatus, runAdmin, startNatsServer, TestPair, type NatsServerHandle } from '@txtest/testkit';

let nats: NatsServerHandle;
let pair: TestPair;
let nc: NatsConnection;
let keyDir: string;
let keyFile: string;

beforeAll(async () => {
  nats = await startNatsServer();
  keyDir = mkdtempSync(join(tmpdir(), 'txtest-key-'));
  keyFile = join(keyDir, 'cluster.key');
  writeFileSync(keyFile, `${'5e'.repeat(32)}\n`);
  chmodSync(keyFile, 0o600);
  pair = new TestPair({ natsUrl: nats.url, args: ['--cluster-key-file', keyFile] });
  await Promise.all([pair.start('n1'), pair.start('n2')]);
  await Promise.all([pair.waitRole('n1', 'primary'), pair.waitRole('n2', 'standby')]);
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await pair?.close();
  await nats?.stop();
  rmSync(keyDir, { recursive: true, force: true });
});

const admin = (args: string[]) => runAdmin([...args, '--nats', nats.url]);

describe('txtest-admin status and switchover', () => {
  it('status shows both nodes side by side, with the build version', async () => {
    const r = await admin(['status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ +n1 +n2\nrole +primary +standby\n/);
    expect(r.stdout).toMatch(/\nlag +0 +0\n/);
    expect(r.stdout).toMatch(/\nversion +\d+\.\d+\.\d+ +\d+\.\d+\.\d+\n/);
    const json = await admin(['status', '--json', '--nodes', 'n1,n2,n9', '--timeout', '300ms']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject([{ nodeId: 'n1', role: 'primary' }, { nodeId: 'n2', role: 'standby' }, { nodeId: 'n9' }]);
  });

  it('a node holding a cluster key refuses an unsigned switchover and stays primary', async () => {
    const r = await admin(['switchover']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/n1 refused the switchover: this node holds a cluster key/);
    expect(await nodeStatus(nc, 'n1')).toMatchObject({ role: 'primary' });
  });

  it('a signed switchover under load swaps the roles, and back, losing and doubling nothing', async () => {
    const client = new TxClient(nc, { attemptTimeoutMs: 500, deadlineMs: 60_000 });
    const audit = new CreditAudit();
    const load = creditLoad('swap', [client], 8, 4000, audit, () => undefined);
    await audit.whenAcked(500);
    const there = await admin(['switchover', '--cluster-key-file', keyFile]);
    expect(there.stdout).toMatch(/n1 handed over to n2 at seq \d+ \(epoch 1\)/);
    expect(there.stdout).toMatch(/n1 is its standby after \d+ ms: switchover done/);
    expect(there.code).toBe(0);
    expect(await nodeStatus(nc, 'n2')).toMatchObject({ role: 'primary', epoch: 2 });
    const acked = audit.acked.length;
    await audit.whenAcked(acked + 500);
    const back = await admin(['switchover', '--cluster-key-file', keyFile]);
    expect(back.stdout).toMatch(/n2 handed over to n1/);
    expect(back.code).toBe(0);
    await load;
    expect(await audit.check(client)).toEqual([]);
    const [s1, s2] = await Promise.all([nodeStatus(nc, 'n1', true), nodeStatus(nc, 'n2', true)]);
    expect(s1).toMatchObject({ role: 'primary', epoch: 3 });
    expect(s2).toMatchObject({ role: 'standby', lastSeq: s1.lastSeq, digest: s1.digest });
    client.close();
  });
});
