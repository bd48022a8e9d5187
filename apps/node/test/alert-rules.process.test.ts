/**
 * The shipped alert rules and dashboard (infra/observability) against what a real pair
 * exports: the rules pass `promtool check rules` and their unit tests (`promtool test
 * rules`), both nodes' /metrics pass `promtool check metrics`, and every metric a rule
 * or a dashboard panel names is one the nodes export.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TxClient } from '@txtest/client';
import { nodeStatus, REPO_ROOT, startNatsServer, TestPair, type NatsServerHandle } from '@txtest/testkit';

const DIR = join(REPO_ROOT, 'infra/observability');
let nats: NatsServerHandle;
let pair: TestPair;
let nc: NatsConnection;

function promtool(args: string[], input?: string): { code: number | null; out: string } {
  const r = spawnSync('promtool', args, { cwd: DIR, input, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool cannot run (infra/bootstrap.sh --tests installs it): ${r.error.message}`);
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The metric names an expression file mentions (rules, dashboard queries). */
function namesIn(text: string): Set<string> {
  return new Set([...text.matchAll(/\b(txtest_[a-z_]+)/g)].map((m) => m[1]!));
}

beforeAll(async () => {
  nats = await startNatsServer();
  pair = new TestPair({ natsUrl: nats.url, args: ['--snapshot-every', '50'] });
  await Promise.all([pair.start('n1'), pair.start('n2')]);
  await Promise.all([pair.waitRole('n1', 'primary'), pair.waitRole('n2', 'standby')]);
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
  const client = new TxClient(nc);
  // Enough for a snapshot on each node, a refusal, and a malformed request: the series the rules read.
  for (let i = 0; i < 120; i++) await client.update({ asset: `obs-${i % 5}`, op: 'credit', args: { amount: 1 }, model: 'account' });
  await client.update({ asset: 'obs-0', op: 'debit', args: { amount: 1_000_000 } });
  await nc.request('txtest.default.tx', new TextEncoder().encode('not msgpack'), { timeout: 5000 });
  client.close();
  await Promise.all([pair.node('n1').waitForLog((l) => l.msg === 'snapshot written'), pair.node('n2').waitForLog((l) => l.msg === 'snapshot written')]);
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await pair?.close();
  await nats?.stop();
});

async function metricsOf(id: string): Promise<string> {
  const { http } = await nodeStatus(nc, id);
  return (await fetch(`http://${http}/metrics`)).text();
}

describe('infra/observability', () => {
  it('the alert rules are valid and pass their unit tests', () => {
    const check = promtool(['check', 'rules', 'alerts.yml']);
    expect(check.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(check.code).toBe(0);
    const test = promtool(['test', 'rules', 'alerts.test.yml']);
    expect(test.out).toMatch(/SUCCESS/);
    expect(test.code).toBe(0);
  });

  it("both nodes' /metrics pass promtool check metrics, and hold every metric the rules and the dashboard name", async () => {
    const texts = await Promise.all([metricsOf('n1'), metricsOf('n2')]);
    for (const t of texts) {
      const lint = promtool(['check', 'metrics'], t);
      expect(lint.out).toBe('');
      expect(lint.code).toBe(0);
    }
    const exported = new Set([...texts.join('\n').matchAll(/^(txtest_[a-z_]+)[{ ]/gm)].map((m) => m[1]!));
    const named = new Set([...namesIn(readFileSync(join(DIR, 'alerts.yml'), 'utf8')), ...namesIn(readFileSync(join(DIR, 'grafana-dashboard.json'), 'utf8'))]);
    expect([...named].filter((n) => !exported.has(n))).toEqual([]);
    // The new series carry what happened: a refusal and a malformed request, a snapshot.
    expect(texts[0]).toMatch(/^txtest_errors_total\{code="REJECTED",node="n1",shard="0"\} 1$/m);
    expect(texts[0]).toMatch(/^txtest_errors_total\{code="BAD_REQUEST",node="n1",shard="0"\} 1$/m);
    expect(texts[0]).toMatch(/^txtest_snapshot_seq\{node="n1",shard="0"\} [1-9]\d*$/m);
    expect(texts[0]).toMatch(/^txtest_data_dir_bytes\{node="n1",shard="0"\} [1-9]\d*$/m);
    expect(texts[0]).toMatch(/^txtest_build_info\{version="\d+\.\d+\.\d+",node="n1",shard="0"\} 1$/m);
  });
});
