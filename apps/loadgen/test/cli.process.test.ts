/**
 * The CLI as a user runs it, against a real nats-server and a real standalone node:
 * a bad flag is one sentence and exit code 2; a run with several clients (worker
 * threads) and a run in open loop both report; the audit passes against the real
 * server path and FAILS, naming the asset, against the deliberately broken one
 * (TXTEST_TEST_FAULTS=drop-acked acks one update in 500 without applying it).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnNode, startNatsServer, type NatsServerHandle, type NodeProcess } from '@txtest/testkit';
import type { RunReport } from '../src/report';
import { runCli } from './helpers';

let nats: NatsServerHandle;
let dir: string;
const nodes: NodeProcess[] = [];

/** A standalone node serving cluster `id`; remembered before it is awaited, so a failed start is still killed. */
async function standalone(id: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const p = spawnNode(['--id', id, '--standalone', '--cluster', id, '--nats', nats.url, '--data-dir', join(dir, id), '--http', '0', '--arbiter', 'off'], env);
  nodes.push(p);
  await p.waitForLog((l) => l.to === 'solo');
}

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: false });
  dir = mkdtempSync(join(tmpdir(), 'txtest-loadgen-'));
  await Promise.all([standalone('good'), standalone('bad', { TXTEST_TEST_FAULTS: 'drop-acked' })]);
});

afterAll(async () => {
  for (const n of nodes) n.kill('SIGKILL');
  await Promise.all(nodes.map((n) => n.exited));
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const short = ['--duration', '1', '--warmup', '0.25', '--interval', '250', '--progress', 'off'];
/** The flags that point a run at the suite's nats-server and one cluster's node. */
const against = (cluster: string) => ['--nats', nats.url, '--cluster', cluster, '--nodes', cluster];

describe('txtest-loadgen CLI', () => {
  it('argument errors: one clear sentence on stderr and exit code 2', async () => {
    const r = await runCli(['--rate', 'abc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('txtest-loadgen: --rate: expected a number > 0 and <= 10000000, got "abc"\n');
    // The other refusals are the same path with other sentences (args.test.ts).
  });

  it('audit passes on the real path: account workload, two clients in worker threads, JSON report', async () => {
    const json = join(dir, 'good.json');
    const r = await runCli([...against('good'), '--clients', '2', '--in-flight', '32', '--audit', '--json', json, ...short]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('audit                     clean');
    const rep = JSON.parse(readFileSync(json, 'utf8')) as RunReport;
    expect(rep.settings.workers).toBe(2);
    expect(rep.measured.committed).toBeGreaterThan(0);
    expect(rep.measured.latencyUs.p99Us).toBeGreaterThan(0);
    expect(rep.audit?.clean).toBe(true);
    expect(rep.audit?.acked).toBeGreaterThanOrEqual(rep.measured.committed);
    expect(rep.failovers).toEqual([expect.objectContaining({ from: null, to: 'good' })]);
  });

  it.each(['orderbook', 'register'])('audit passes on the real path: %s workload in open loop', async (workload) => {
    const r = await runCli([
      ...against('good'),
      '--workload',
      workload,
      '--rate',
      '3000',
      '--instruments',
      '4',
      '--assets',
      '50',
      '--audit',
      '--json',
      '-',
      ...short,
    ]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as RunReport;
    expect(rep.mode).toBe('open loop');
    expect(rep.audit?.clean).toBe(true);
    expect(rep.measured.committed).toBeGreaterThan(1000);
  });

  it('audit FAILS against the broken server path (drop-acked), exit 1 naming the lost update', async () => {
    const r = await runCli(['--nats', nats.url, '--cluster', 'bad', '--nodes', 'bad', '--in-flight', '32', '--assets', '200', '--audit', ...short]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('audit                     FAILED');
    expect(r.stderr).toMatch(
      /^txtest-loadgen: audit FAILED with \d+ violation\(s\); the first: account \S+-acct-\d+: expected balance -?\d+ version \d+ from the acks, the primary has balance -?\d+ version \d+ \(\d+ acked update\(s\) lost\)\n$/,
    );
  });
});
