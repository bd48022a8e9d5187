/**
 * The shipped least-privilege NATS configuration (infra/nats/nats-server.conf, docs/SECURITY.md)
 * on a real nats-server: the pair forms with the node user (arbiter included); the
 * loadgen with its audit, `req` and an events subscriber work with the client user; and
 * the client user's publishes on the internal subjects are refused by the server, with
 * the pair unchanged.
 */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNodeMessage, NodeKind, subjects } from '@txtest/protocol';
import { nodeStatus, REPO_ROOT, runLoadgen, startNatsServer, TestPair, type NatsServerHandle } from '@txtest/testkit';

const CONFIG = `${REPO_ROOT}infra/nats/nats-server.conf`;
const PASSWORDS = { TXTEST_NODE_PASSWORD: 'node-secret-for-the-test', TXTEST_CLIENT_PASSWORD: 'client-secret-for-the-test' };
const S = subjects('txtest', 'default');

let nats: NatsServerHandle;
let client: NatsConnection;
let pair: TestPair;

/** The loadgen as the client user. */
function loadgen(args: string[]) {
  return runLoadgen(args, { TXTEST_NATS_URL: nats.url, TXTEST_NATS_USER: 'txtest-client', TXTEST_NATS_PASSWORD: PASSWORDS.TXTEST_CLIENT_PASSWORD });
}

beforeAll(async () => {
  nats = await startNatsServer({ args: ['-c', CONFIG], env: PASSWORDS });
  client = await connect({ servers: nats.url, user: 'txtest-client', pass: PASSWORDS.TXTEST_CLIENT_PASSWORD, noAsyncTraces: true });
  pair = new TestPair({ natsUrl: nats.url, args: ['--nats-user', 'txtest-node', '--nats-password', PASSWORDS.TXTEST_NODE_PASSWORD, '--arbiter', 'kv'] });
});

afterAll(async () => {
  await client?.close();
  await pair?.close();
  await nats?.stop();
});

describe('the shipped least-privilege NATS configuration', () => {
  it('lets the pair and the client tools work, and keeps the client user off the internal subjects', async () => {
    await Promise.all([pair.start('n1'), pair.start('n2')]);
    await Promise.all([pair.waitRole('n1', 'primary'), pair.waitRole('n2', 'standby')]);
    const before = await nodeStatus(client, 'n1');

    // Events, as a client user sees them.
    let events = 0;
    const eventsSub = client.subscribe(S.events('>'), { callback: () => void events++ });
    const run = await loadgen(['--in-flight', '32', '--batch', 'on', '--assets', '50', '--duration', '2', '--warmup', '1', '--audit', '--progress', 'off']);
    expect(run.stderr).not.toMatch(/violation/i);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/audit\s+clean/);
    await client.flush();
    expect(events).toBeGreaterThan(0);
    eventsSub.unsubscribe();
    const req = await loadgen(['req', 'status.n2']);
    expect(req.code, req.stderr).toBe(0);
    expect(JSON.parse(req.stdout)).toMatchObject({ nodeId: 'n2', role: 'standby' });
    // The inbox prefix setting reaches the connection: this user may not subscribe to that one.
    const ownInbox = await loadgen(['req', '--nats-inbox-prefix', '_INBOX_elsewhere', 'status.n2']);
    expect(ownInbox.code).not.toBe(0);
    expect(ownInbox.stderr).toMatch(/_INBOX_elsewhere/);

    // The client user raises an epoch on the internal subject: the server refuses the publish.
    const refused = (async () => {
      for await (const s of client.status()) if (s.type === 'error' && /permissions violation/i.test(String(s.error))) return String(s.error);
      return '';
    })();
    client.publish(S.node('n2'), encodeNodeMessage(NodeKind.HEARTBEAT, { from: 'n1', epoch: 99, role: 'primary' }));
    expect(await refused).toMatch(new RegExp(`publish to "${S.node('n2').replace(/\./g, '\\.')}"`, 'i'));
    const [s1, s2] = await Promise.all([nodeStatus(client, 'n1'), nodeStatus(client, 'n2')]);
    expect([s1.role, s1.epoch, s1.pid]).toEqual(['primary', before.epoch, before.pid]);
    expect([s2.role, s2.epoch]).toEqual(['standby', before.epoch]);
  });
});
