/**
 * The pair on the shipped three-server NATS cluster (infra/nats/cluster/, with the users
 * of infra/nats/users.conf), under load: the server the primary is connected to is
 * SIGKILLed and restarted, twice; then the primary and its server are SIGKILLed together.
 * No acknowledged update is lost (the audit), the service comes back each time, the
 * arbiter's bucket keeps three copies and still decides the last takeover, and the
 * digests agree at the end.
 */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TxClient } from '@txtest/client';
import { CreditAudit, freePort, nodeStatus, REPO_ROOT, startNatsServer, TestPair, type NatsServerHandle } from '@txtest/testkit';

const PASSWORDS = { TXTEST_NODE_PASSWORD: 'node-secret-for-the-test', TXTEST_CLIENT_PASSWORD: 'client-secret-for-the-test' };
const BUCKET_STREAM = 'KV_txtest_txtest_default';

interface Server {
  ports: { client: number; route: number; monitor: number };
  storeDir: string;
  handle: NatsServerHandle | null;
}

let servers: Server[];
let urls: string;
let nc: NatsConnection;
/** The node user: JetStream's API is the nodes' (the client user may not read the bucket). */
let admin: NatsConnection;
let pair: TestPair;
let storeRoot: string;

async function startServer(i: number): Promise<void> {
  const s = servers[i]!;
  const routes = servers.filter((_, j) => j !== i).map((o) => `nats://127.0.0.1:${o.ports.route}`);
  s.handle = await startNatsServer({
    port: s.ports.client,
    storeDir: s.storeDir,
    env: PASSWORDS,
    args: [
      '-c',
      `${REPO_ROOT}infra/nats/cluster/s${i + 1}.conf`,
      '-m',
      String(s.ports.monitor),
      '--cluster',
      `nats://127.0.0.1:${s.ports.route}`,
      '--routes',
      routes.join(','),
    ],
  });
}

function killServer(i: number): Promise<void> {
  const h = servers[i]!.handle!;
  process.kill(h.pid, 'SIGKILL');
  servers[i]!.handle = null;
  return h.stop();
}

/** The server (index) a node's NATS connection is on, from each server's /connz. */
async function serverOf(nodeId: string): Promise<number> {
  for (const [i, s] of servers.entries()) {
    if (s.handle === null) continue;
    const connz = (await (await fetch(`http://127.0.0.1:${s.ports.monitor}/connz`)).json()) as { connections?: { name?: string }[] };
    if ((connz.connections ?? []).some((c) => c.name === `txtest-node-${nodeId}`)) return i;
  }
  throw new Error(`node ${nodeId} is connected to none of the servers`);
}

/**
 * Asks JetStream (as the node user) until `healthy` says yes. Polled: a JetStream cluster
 * announces its leaders nowhere a client can wait on; an error means no leader yet.
 */
async function untilJetstream(healthy: (jsm: JetStreamManager) => Promise<boolean>): Promise<void> {
  for (;;) {
    try {
      if (await healthy(await jetstreamManager(admin, { timeout: 1000 }))) return;
    } catch {
      // no leader yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** JetStream answers once its meta group has a leader. */
const jetstreamReady = () => untilJetstream(async (jsm) => Boolean(await jsm.getAccountInfo()));

/**
 * The arbiter's bucket has a leader and both other copies are current: a server
 * restarted a moment ago has caught up with the stream again. Killing the next server
 * before that leaves the bucket without a quorum, which no pair can help.
 */
const bucketHealthy = () =>
  untilJetstream(async (jsm) => {
    const info = await jsm.streams.info(BUCKET_STREAM);
    const replicas = info.cluster?.replicas ?? [];
    return Boolean(info.cluster?.leader) && replicas.length === 2 && replicas.every((r) => r.current && !r.offline);
  });

beforeAll(async () => {
  storeRoot = mkdtempSync(join(tmpdir(), 'txtest-cluster-'));
  servers = [];
  for (let i = 0; i < 3; i++) {
    servers.push({
      ports: { client: await freePort(), route: await freePort(), monitor: await freePort() },
      storeDir: join(storeRoot, `s${i + 1}`),
      handle: null,
    });
  }
  await Promise.all(servers.map((_, i) => startServer(i)));
  urls = servers.map((s) => `nats://127.0.0.1:${s.ports.client}`).join(',');
  nc = await connect({
    servers: urls.split(','),
    user: 'txtest-client',
    pass: PASSWORDS.TXTEST_CLIENT_PASSWORD,
    noAsyncTraces: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
  });
  admin = await connect({
    servers: urls.split(','),
    user: 'txtest-node',
    pass: PASSWORDS.TXTEST_NODE_PASSWORD,
    noAsyncTraces: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
  });
  pair = new TestPair({ natsUrl: urls, args: ['--nats-user', 'txtest-node', '--nats-password', PASSWORDS.TXTEST_NODE_PASSWORD, '--arbiter', 'kv'] });
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await admin?.close();
  await pair?.close();
  await Promise.all((servers ?? []).map((s) => s.handle?.stop()));
  rmSync(storeRoot, { recursive: true, force: true });
});

describe('the pair on a three-server NATS cluster', () => {
  it('loses no acknowledged update when servers die under it, and the replicated arbiter keeps deciding', async () => {
    await jetstreamReady();
    await Promise.all([pair.start('n1'), pair.start('n2')]);
    await Promise.all([pair.waitRole('n1', 'primary'), pair.waitRole('n2', 'standby')]);
    expect(pair.node('n1').lines.find((l) => l.msg === 'arbiter')).toMatchObject({ replicas: 3 });

    const client = new TxClient(nc, { attemptTimeoutMs: 500, deadlineMs: 60_000 });
    const audit = new CreditAudit();
    let stop = false;
    const load = Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; !stop; i++) {
          const asset = `c${(i * 5 + w) % 31}`;
          const id = client.newId();
          audit.record({ id, asset, amount: 1, reply: await client.update({ id, asset, op: 'credit', args: { amount: 1 }, model: 'account' }) });
        }
      }),
    );
    await audit.whenAcked(300);

    const primary = async () => ((await nodeStatus(nc, 'n1')).role.match(/primary|solo/) ? 'n1' : 'n2');
    for (let round = 0; round < 2; round++) {
      const i = await serverOf(await primary());
      await killServer(i);
      await audit.whenAcked(audit.acked.length + 300);
      await startServer(i);
      await bucketHealthy();
      await audit.whenAcked(audit.acked.length + 300);
    }

    // The primary and its server together: the standby takes over through the arbiter, on the two servers left.
    const dying = await primary();
    const heir = dying === 'n1' ? 'n2' : 'n1';
    const i = await serverOf(dying);
    const killedAt = Date.now();
    await Promise.all([pair.kill(dying), killServer(i)]);
    await pair.waitRole(heir, 'solo', killedAt, 30_000);
    const opened = await pair.node(heir).waitForLog((l) => l.msg === 'epoch opened' && (l.time as number) >= killedAt);
    expect(opened.arbiterMs).toEqual(expect.any(Number));
    await audit.whenAcked(audit.acked.length + 300);
    await startServer(i);
    await bucketHealthy();
    const restartedAt = Date.now();
    await pair.start(dying);
    await pair.waitRole(dying, 'standby', restartedAt, 30_000);
    await audit.whenAcked(audit.acked.length + 300);
    stop = true;
    await load;

    expect(await audit.check(client)).toEqual([]);
    const [a, b] = await Promise.all([nodeStatus(nc, heir, true), nodeStatus(nc, dying, true)]);
    expect([a.role, b.role]).toEqual(['primary', 'standby']);
    expect(b.digest).toBe(a.digest);
    const jsm = await jetstreamManager(admin);
    expect((await jsm.streams.info(BUCKET_STREAM)).config.num_replicas).toBe(3);
  });
});
