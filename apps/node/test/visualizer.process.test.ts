/**
 * The visualizer in a real browser (Debian's chromium driven by playwright-core)
 * against a real pair on a real nats-server: the page draws every state of the role
 * machine, shows n1 and n2 in their roles, follows a failover (SIGKILL of the primary,
 * which is also the node that served the page) and the old primary's return as standby;
 * then a cluster of two shards, whose four nodes the page finds and groups by shard.
 * Every wait is on a DOM condition; screenshots go to tmp/visualizer/ (gitignored).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startNatsServer, TestPair, type NatsServerHandle } from '@txtest/testkit';
import { allStateIds, roleGraph } from '../src/diagram/role-graph';
import { parsePromText, valueOf } from './helpers/prom-text';

const CHROMIUM = process.env.TXTEST_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(REPO_ROOT, 'tmp', 'visualizer');
const WAIT_MS = 15_000;
/** The node renders its diagram once, at the lowest CPU priority: allow for a busy machine. */
const DIAGRAM_WAIT_MS = 45_000;

let nats: NatsServerHandle;
let pair: TestPair;
/** The sharded cluster's pairs (last test). */
const shardPairs: TestPair[] = [];
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run infra/bootstrap.sh --tests (it installs chromium from apt)`);
  mkdirSync(SHOTS, { recursive: true });
  nats = await startNatsServer();
  // Browser, diagram layout and pair share two cores here: a more patient failure detector
  // keeps a starved (not dead) primary from being replaced, which is not what this test is about.
  pair = new TestPair({ natsUrl: nats.url, heartbeatIntervalMs: 100, heartbeatMissed: 6 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
});

afterAll(async () => {
  await browser?.close();
  await pair?.close();
  await Promise.all(shardPairs.map((p) => p.close()));
  await nats?.stop();
});

/** The HTTP address a node process announced in its "started" line. */
async function httpOf(id: string): Promise<string> {
  const line = await pair.node(id).waitForLog((l) => l.msg === 'started');
  return String(line.http);
}

const card = (id: string, attrs: string) => page.locator(`#node-${id}${attrs}`);

async function metricsOf(id: string) {
  return parsePromText(await (await fetch(`http://${await httpOf(id)}/metrics`)).text());
}

describe('visualizer: the page follows the pair in a real browser', () => {
  it('draws every state of the machine and shows n1 primary, n2 standby', async () => {
    await Promise.all([pair.start('n1'), pair.start('n2')]);
    await Promise.all([pair.waitRole('n1', 'primary'), pair.waitRole('n2', 'standby')]);
    await page.goto(`http://${await httpOf('n1')}/`);

    await page.locator('#diagram svg[data-loaded="true"]').waitFor({ timeout: DIAGRAM_WAIT_MS });
    const drawn = await page.locator('#diagram g.state').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-state')));
    expect(new Set(drawn)).toEqual(new Set(allStateIds(roleGraph())));

    await card('n1', '[data-link="live"][data-role="primary"]').waitFor({ timeout: WAIT_MS });
    await card('n2', '[data-link="live"][data-role="standby"]').waitFor({ timeout: WAIT_MS });
    await page.locator('g.state[data-state="primary"][data-nodes~="n1"]').waitFor({ timeout: WAIT_MS });
    await page.locator('g.state[data-state="standby"][data-nodes~="n2"]').waitFor({ timeout: WAIT_MS });
    await page.locator('#timeline li.transition[data-node="n1"][data-to="primary"]').first().waitFor({ timeout: WAIT_MS });
    await page.screenshot({ path: join(SHOTS, '1-pair.png'), fullPage: true });

    // Each end of the replication stream reports its lag.
    await expect.poll(async () => valueOf(await metricsOf('n1'), 'txtest_replication_lag_seq', { side: 'primary' }), { timeout: WAIT_MS }).toBe(0);
    await expect.poll(async () => valueOf(await metricsOf('n2'), 'txtest_replication_lag_seq', { side: 'standby' }), { timeout: WAIT_MS }).toBe(0);
  });

  it('after SIGKILL of the primary shows the standby serving and the old primary lost', async () => {
    await pair.kill('n1', 'SIGKILL');
    // The standby takes over: promoting, then solo (primary without a standby).
    await card('n2', '[data-link="live"][data-role="solo"]').waitFor({ timeout: WAIT_MS });
    await card('n1', '[data-link="lost"]').waitFor({ timeout: WAIT_MS });
    await page.locator('g.state[data-state="solo"][data-nodes~="n2"]').waitFor({ timeout: WAIT_MS });
    await page
      .locator('#timeline li.transition[data-node="n2"][data-to="promoting"]', { hasText: 'nobody listens on its subject' })
      .first()
      .waitFor({ timeout: WAIT_MS });
    expect(await page.locator('g.state[data-nodes~="n1"]').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, '2-failover.png'), fullPage: true });
    expect(valueOf(await metricsOf('n2'), 'txtest_failovers_total')).toBeGreaterThanOrEqual(1);
  });

  it('shows the old primary back as standby after its restart (on a new port)', async () => {
    await pair.start('n1');
    await pair.waitRole('n1', 'standby');
    await card('n1', '[data-link="live"][data-role="standby"]').waitFor({ timeout: WAIT_MS });
    await card('n2', '[data-link="live"][data-role="primary"]').waitFor({ timeout: WAIT_MS });
    await page.locator('g.state[data-state="standby"][data-nodes~="n1"]').waitFor({ timeout: WAIT_MS });
    await page.locator('g.state[data-state="primary"][data-nodes~="n2"]').waitFor({ timeout: WAIT_MS });
    await page.screenshot({ path: join(SHOTS, '3-rejoined.png'), fullPage: true });
  });
});

describe('visualizer: a sharded cluster', () => {
  it('shows every pair of the cluster, grouped by shard, from a page one node served', async () => {
    // A cluster of its own on the same server, so the roll call finds its four nodes and not n1, n2.
    for (const index of [0, 1])
      shardPairs.push(
        new TestPair({ natsUrl: nats.url, heartbeatIntervalMs: 100, heartbeatMissed: 6, shard: { index, count: 2 }, args: ['--cluster', 'sharded'] }),
      );
    await Promise.all(shardPairs.flatMap((p) => p.ids.map((id) => p.start(id))));
    await Promise.all(shardPairs.flatMap((p) => [p.waitRole(p.ids[0], 'primary'), p.waitRole(p.ids[1], 'standby')]));
    const started = await shardPairs[0]!.node('s0-n1').waitForLog((l) => l.msg === 'started');
    await page.goto(`http://${String(started.http)}/`);
    for (const [k, p] of shardPairs.entries()) {
      const group = `#nodes section.shard[data-shard="${k}"]`;
      await page.locator(`${group} #node-${p.ids[0]}[data-link="live"][data-role="primary"]`).waitFor({ timeout: WAIT_MS });
      await page.locator(`${group} #node-${p.ids[1]}[data-link="live"][data-role="standby"]`).waitFor({ timeout: WAIT_MS });
      await page.locator(`g.state[data-state="primary"][data-nodes~="${p.ids[0]}"]`).waitFor({ timeout: WAIT_MS });
    }
    expect(await page.locator('#nodes .node').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-node')))).toEqual([
      's0-n1',
      's0-n2',
      's1-n1',
      's1-n2',
    ]);
    await page.screenshot({ path: join(SHOTS, '4-shards.png'), fullPage: true });
  });
});
