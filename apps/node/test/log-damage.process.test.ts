/**
 * A damaged log on disk, met by a real node process at start: a torn last record is
 * cut off with a warning and the node serves; a corrupt record in the middle stops
 * the node with one sentence naming the file and the offset; --repair-log truncates there.
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TxClient } from '@txtest/client';
import { spawnNode, startNatsServer, startNode, type NatsServerHandle } from '@txtest/testkit';

let nats: NatsServerHandle;
const dirs: string[] = [];

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: false });
});

afterAll(async () => {
  await nats?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function args(dataDir: string, id: string, extra: string[] = []): string[] {
  return ['--id', id, '--standalone', '--nats', nats.url, '--data-dir', dataDir, '--http', '0', '--fsync', 'always', '--snapshot-every', '0', ...extra];
}

/** Runs a node, commits `n` credits of 1 to one account, and kills it. Returns the data dir. */
async function logWith(id: string, n: number): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'txtest-damage-'));
  dirs.push(dataDir);
  const node = await startNode(args(dataDir, id));
  const nc = await connect({ servers: nats.url, noAsyncTraces: true });
  const client = new TxClient(nc, { batching: false, cluster: 'default' });
  for (let i = 0; i < n; i++) await client.update({ asset: 'a1', op: 'credit', args: { amount: 1 }, model: 'account' });
  client.close();
  await nc.close();
  node.kill('SIGKILL');
  await node.exited;
  return dataDir;
}

function segmentOf(dataDir: string): string {
  const logDir = join(dataDir, 'log');
  const seg = readdirSync(logDir)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .at(-1)!;
  return join(logDir, seg);
}

/** The balance of the account `logWith` credits, as the node serving the log reports it. */
async function balance(): Promise<{ balance: number; version: number }> {
  const nc = await connect({ servers: nats.url, noAsyncTraces: true });
  const client = new TxClient(nc);
  const q = await client.query('a1');
  client.close();
  await nc.close();
  return { balance: (q!.state as { balance: number }).balance, version: q!.version };
}

describe('a damaged log at start', () => {
  it('a torn last record is truncated with a warning, and everything before it is served', async () => {
    const dataDir = await logWith('torn1', 20);
    appendFileSync(segmentOf(dataDir), Buffer.from([0x30, 0, 0, 0, 1, 2, 3])); // a frame header promising 48 bytes, then the crash
    const node = await startNode(args(dataDir, 'torn1'));
    const warning = await node.waitForLog((l) => typeof l.msg === 'string' && /torn tail/.test(l.msg));
    expect(warning.level).toBe(40);
    expect(await balance()).toEqual({ balance: 20, version: 20 });
    node.kill('SIGKILL');
    await node.exited;
  });

  it('a log directory in a format this build does not read stops the node with one sentence, and the log is left as it was', async () => {
    const dataDir = await logWith('fmt1', 5);
    const marker = join(dataDir, 'log', 'FORMAT');
    expect(readFileSync(marker, 'utf8')).toBe('txtest-log 1\n');
    writeFileSync(marker, 'txtest-log 7\n');
    const before = readFileSync(segmentOf(dataDir));
    const node = spawnNode(args(dataDir, 'fmt1'));
    const { code } = await node.exited;
    expect(code).not.toBe(0);
    expect(node.stderr()).toMatch(/the log was written in log format 7, and this build reads format 1/);
    expect(readFileSync(segmentOf(dataDir)).equals(before)).toBe(true);
  });

  it('a corrupt record in the middle stops the node with a sentence naming the file and offset', async () => {
    const dataDir = await logWith('mid1', 20);
    const seg = segmentOf(dataDir);
    const bytes = readFileSync(seg);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(seg, bytes);
    const node = spawnNode(args(dataDir, 'mid1'));
    const { code } = await node.exited;
    expect(code).not.toBe(0);
    const err = node.stderr();
    expect(err).toContain(seg.split('/').at(-1));
    expect(err).toMatch(/offset \d+/);
    expect(err).toMatch(/--repair-log/);

    // The operator's explicit repair truncates at the damage and starts.
    const repaired = await startNode(args(dataDir, 'mid1', ['--repair-log']));
    const state = await balance();
    expect(state.version).toBeLessThan(20);
    expect(state.balance).toBe(state.version);
    repaired.kill('SIGKILL');
    await repaired.exited;
  });

  it('a bad setting exits non-zero with one sentence naming it', async () => {
    for (const [extra, pattern] of [
      [['--fsync', 'sometimes'], /--fsync/],
      [['--heartbeat-interval-ms', '500'], /--heartbeat-interval-ms/],
      [['--bogus'], /--bogus: unknown flag/],
    ] as [string[], RegExp][]) {
      const node = spawnNode(['--id', 'x1', '--standalone', '--nats', nats.url, ...extra]);
      const { code } = await node.exited;
      expect(code).toBe(2);
      expect(node.stderr().trim().split('\n')).toHaveLength(1);
      expect(node.stderr()).toMatch(pattern);
    }
    const noId = spawnNode(['--standalone'], { TXTEST_NODE_ID: '' });
    expect((await noId.exited).code).toBe(2);
    expect(noId.stderr()).toMatch(/--id: required/);
  });
});
