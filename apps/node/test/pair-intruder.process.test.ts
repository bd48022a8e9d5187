/**
 * An intruder on the bus: an ordinary connection to the pair's NATS server (same
 * account) that captures the node-to-node traffic under load and sends it back,
 * verbatim, with bits flipped, with every epoch raised (re-signed with nothing, or with
 * the captured MAC kept), and after the standby restarted. With a cluster key none of it
 * has an effect: same primary (pid and epoch), the standby stays standby, every acked
 * update is there, the digests agree, and the nodes count what they dropped.
 * Without the key check the raised epochs alone swapped the roles.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TxClient } from '@txtest/client';
import { AUTH_TRAILER_BYTES as TRAILER } from '@txtest/cluster';
import { decodeNodeMessage, encodeNodeMessage, subjects } from '@txtest/protocol';
import { CreditAudit, nodeStatus, startNatsServer, TestPair, type NatsServerHandle } from '@txtest/testkit';

const CLUSTER = 'intruder';
const S = subjects('txtest', CLUSTER);

let nats: NatsServerHandle;
let nc: NatsConnection;
let spy: NatsConnection;
let pair: TestPair;
let keyDir: string;

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
  spy = await connect({ servers: nats.url, noAsyncTraces: true });
  keyDir = mkdtempSync(join(tmpdir(), 'txtest-key-'));
  const keyFile = join(keyDir, 'cluster.key');
  writeFileSync(keyFile, `${'3f'.repeat(32)}\n`);
  chmodSync(keyFile, 0o600);
  pair = new TestPair({ natsUrl: nats.url, args: ['--cluster', CLUSTER, '--cluster-key-file', keyFile] });
});

afterAll(async () => {
  await spy?.close();
  await nc?.close();
  await pair?.close();
  await nats?.stop();
  rmSync(keyDir, { recursive: true, force: true });
});

interface Captured {
  subject: string;
  data: Uint8Array;
}

/** Every variant of a captured message an intruder would try. */
function forgeries(m: Captured, i: number): Uint8Array[] {
  const flipped = Uint8Array.from(m.data);
  flipped[(i * 7919) % flipped.length] ^= 0x10;
  const out: Uint8Array[] = [Uint8Array.from(m.data), flipped];
  // Raise the epoch: without the trailer (an unauthenticated message), and with the captured one kept.
  const body = m.data.subarray(0, m.data.length - TRAILER);
  const decoded = decodeNodeMessage(body);
  if (typeof decoded !== 'string') {
    const raised = { ...decoded.header, epoch: 127 };
    out.push(encodeNodeMessage(decoded.kind, raised, [decoded.payload]));
    const resigned = encodeNodeMessage(decoded.kind, raised, [decoded.payload], TRAILER);
    resigned[0] = m.data[0]!;
    resigned.set(m.data.subarray(m.data.length - TRAILER), resigned.length - TRAILER);
    out.push(resigned);
  }
  return out;
}

async function rejected(id: string): Promise<Record<string, number>> {
  const { http } = (await nodeStatus(nc, id, false, 'txtest', CLUSTER)) as unknown as { http: string };
  const text = await (await fetch(`http://${http}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^txtest_node_messages_rejected_total\{reason="([a-z-]+)"[^}]*\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

describe('an intruder replaying the internal traffic of a keyed pair', () => {
  it('changes nothing, before and after the standby restarts, and every drop is counted', async () => {
    await Promise.all([pair.start('n1'), pair.start('n2')]);
    await Promise.all([pair.waitRole('n1', 'primary'), pair.waitRole('n2', 'standby')]);
    const captured: Captured[] = [];
    const sub = spy.subscribe(`${S.node('*')}`, { callback: (_e, m) => void captured.push({ subject: m.subject, data: Uint8Array.from(m.data) }) });
    const client = new TxClient(nc, { cluster: CLUSTER, attemptTimeoutMs: 500, deadlineMs: 30_000 });
    const audit = new CreditAudit();
    let stop = false;
    const load = Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; !stop; i++) {
          const asset = `i${(i + w) % 13}`;
          const id = client.newId();
          audit.record({ id, asset, amount: 1, reply: await client.update({ id, asset, op: 'credit', args: { amount: 1 }, model: 'account' }) });
        }
      }),
    );
    await audit.whenAcked(400);
    sub.unsubscribe();
    const before = await nodeStatus(nc, 'n1', false, 'txtest', CLUSTER);
    expect(captured.length).toBeGreaterThan(50);

    const attack = async () => {
      captured.forEach((m, i) => {
        for (const f of forgeries(m, i)) spy.publish(m.subject, f);
      });
      await spy.flush();
    };
    const unchanged = async (was: { epoch: number; pid: number }) => {
      const [s1, s2] = await Promise.all([nodeStatus(nc, 'n1', true, 'txtest', CLUSTER), nodeStatus(nc, 'n2', true, 'txtest', CLUSTER)]);
      expect([s1.role, s1.epoch, s1.pid]).toEqual(['primary', was.epoch, was.pid]);
      expect([s2.role, s2.epoch]).toEqual(['standby', was.epoch]);
      return [s1, s2] as const;
    };
    const attackedAt = Date.now();
    await attack();
    await audit.whenAcked(audit.acked.length + 200);
    await unchanged(before);
    // The standby restarts (the primary goes solo and takes it back in a new epoch): what
    // was captured before names the standby's old session.
    await pair.kill('n2');
    const restartedAt = Date.now();
    await pair.start('n2');
    await Promise.all([pair.waitRole('n2', 'standby', restartedAt), pair.waitRole('n1', 'primary', restartedAt)]);
    const rejoined = await nodeStatus(nc, 'n1', false, 'txtest', CLUSTER);
    const secondAttackAt = Date.now();
    await attack();
    await audit.whenAcked(audit.acked.length + 200);
    stop = true;
    await load;

    const [s1, s2] = await unchanged(rejoined);
    expect(await audit.check(client)).toEqual([]);
    expect(s2.digest).toBe(s1.digest);
    // n1 saw every kind of forgery; the restarted n2 saw the replays of its old session.
    const r1 = await rejected('n1');
    for (const reason of ['replay', 'bad-mac', 'unauthenticated']) expect(r1[reason], reason).toBeGreaterThan(0);
    const r2 = await rejected('n2');
    for (const reason of ['stale-session', 'bad-mac', 'unauthenticated']) expect(r2[reason], reason).toBeGreaterThan(0);
    // No role changed during either attack (the restart's own changes lie between them).
    const changes = (id: string, from: number, to: number) =>
      pair
        .node(id)
        .lines.filter((l) => typeof l.to === 'string' && !String(l.msg).startsWith('reply gate') && (l.time as number) >= from && (l.time as number) < to);
    expect(changes('n1', attackedAt, restartedAt)).toEqual([]);
    expect([...changes('n1', secondAttackAt, Infinity), ...changes('n2', secondAttackAt, Infinity)]).toEqual([]);
  });
});

describe('two nodes holding different cluster keys', () => {
  it('never form a pair, and each says why', async () => {
    const other = join(keyDir, 'other.key');
    writeFileSync(other, `${'c4'.repeat(32)}\n`);
    chmodSync(other, 0o600);
    const mismatch = new TestPair({ natsUrl: nats.url, args: ['--cluster', 'mismatch'] });
    try {
      await Promise.all([mismatch.start('n1', ['--cluster-key-file', join(keyDir, 'cluster.key')]), mismatch.start('n2', ['--cluster-key-file', other])]);
      const why = (l: { msg?: unknown; reason?: unknown }) => l.reason === 'bad-mac' && String(l.msg).includes('the peer holds a different cluster key');
      await Promise.all(['n1', 'n2'].map((id) => mismatch.node(id).waitForLog(why)));
      // Two empty logs and no word from the peer: neither may lead, so both wait. The
      // rate-limited line comes again a second later: the pair still has not formed by then.
      for (const id of ['n1', 'n2']) {
        const first = mismatch.node(id).lines.find(why)!;
        await mismatch.node(id).waitForLog((l) => why(l) && (l.time as number) > (first.time as number));
      }
      const serving = ['promoting', 'primary', 'solo', 'standby', 'syncing'];
      for (const id of ['n1', 'n2']) expect(mismatch.node(id).lines.filter((l) => serving.includes(l.to as string))).toEqual([]);
    } finally {
      await mismatch.close();
    }
  });
});
