/**
 * `nx serve node --nats-cluster`: the dev pair on a private three-server NATS cluster
 * made of the shipped configuration (infra/nats/cluster/, its users): both nodes come
 * up as primary and standby over the node user, the arbiter's bucket has three copies,
 * a client under the client user runs an audited load, and Ctrl-C (SIGINT) stops every
 * process serve started.
 */
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freeBase, nodeStatus, pidAlive, runLoadgen, startServe, type ServeHandle } from '@txtest/testkit';

let serve: ServeHandle | null = null;
const dataDir = mkdtempSync(join(tmpdir(), 'txtest-serve-'));

afterAll(async () => {
  await serve?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('nx serve node --nats-cluster', () => {
  it('runs the dev pair on three NATS servers with replicated arbiter and least-privilege users, and Ctrl-C stops it all', async () => {
    // The cluster's client, route and monitoring ports, and the two HTTP ports.
    const base = await freeBase([0, 1, 2, 2000, 2001, 2002, 4000, 4001, 4002, 6000, 6001]);
    const urls = [0, 1, 2].map((i) => `nats://127.0.0.1:${base + i}`).join(',');
    serve = startServe(['--nats-cluster'], {
      TXTEST_NATS_URL: `nats://127.0.0.1:${base}`,
      TXTEST_SERVE_DATA: dataDir,
      TXTEST_SERVE_HTTP_PORT: String(base + 6000),
    });
    const natsPids = (await serve.waitFor(/three-server NATS cluster \(pids (\d+), (\d+), (\d+)\)/)).slice(1).map(Number);
    const nodePids = [Number((await serve.waitFor(/node n1 started \(pid (\d+)\)/))[1]), Number((await serve.waitFor(/node n2 started \(pid (\d+)\)/))[1])];
    await serve.waitFor(/solo -> primary/, 60_000);
    await serve.waitFor(/syncing -> standby/, 60_000);

    const secrets = Object.fromEntries(
      readFileSync(join(dataDir, 'nats-users.env'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split('=') as [string, string]),
    );
    const client = await connect({ servers: urls.split(','), user: 'txtest-client', pass: secrets.TXTEST_CLIENT_PASSWORD, noAsyncTraces: true });
    const node = await connect({ servers: urls.split(','), user: 'txtest-node', pass: secrets.TXTEST_NODE_PASSWORD, noAsyncTraces: true });
    try {
      const roles = [(await nodeStatus(client, 'n1')).role, (await nodeStatus(client, 'n2')).role].sort();
      expect(roles).toEqual(['primary', 'standby']);
      const info = await (await jetstreamManager(node)).streams.info('KV_txtest_txtest_default');
      expect(info.config.num_replicas).toBe(3);

      const run = await runLoadgen(['--in-flight', '64', '--batch', 'on', '--duration', '2', '--warmup', '0', '--audit'], {
        TXTEST_NATS_URL: urls,
        TXTEST_NATS_USER: 'txtest-client',
        TXTEST_NATS_PASSWORD: secrets.TXTEST_CLIENT_PASSWORD,
      });
      expect(run.stderr).not.toMatch(/Authorization Violation|Permissions Violation/);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/audit\s+clean/);
    } finally {
      await client.close();
      await node.close();
    }

    serve.signal('SIGINT');
    expect(await serve.exited).toBe(0);
    expect([...natsPids, ...nodePids].filter(pidAlive)).toEqual([]);
  }, 120_000);
});
