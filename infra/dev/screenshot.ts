/**
 * Takes the README's screenshot of the visualizer: a real pair on a private
 * nats-server (free port), a light credit load so the throughput sparklines move,
 * then a SIGKILL of the primary so the page shows a failover and a lost node.
 *
 *   npx tsx infra/dev/screenshot.ts docs/img/visualizer.png
 *
 * Everything it starts is stopped by PID before it exits.
 */
import { connect } from '@nats-io/transport-node';
import { chromium } from 'playwright-core';
import { TxClient } from '@txtest/client';
import { startNatsServer, TestPair } from '@txtest/testkit';

const out = process.argv[2] ?? 'tmp/visualizer/readme.png';
const nats = await startNatsServer();
const pair = new TestPair({ natsUrl: nats.url });
const browser = await chromium.launch({
  executablePath: process.env.TXTEST_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const nc = await connect({ servers: nats.url, noAsyncTraces: true });
let loading = true;
try {
  await Promise.all([pair.start('n1'), pair.start('n2')]);
  await Promise.all([pair.waitRole('n1', 'primary'), pair.waitRole('n2', 'standby')]);
  const client = new TxClient(nc, { attemptTimeoutMs: 500, deadlineMs: 30_000 });
  const load = Promise.all(
    Array.from({ length: 16 }, async (_, w) => {
      for (let i = 0; loading; i++) await client.update({ asset: `acct-${(w * 31 + i) % 40}`, op: 'credit', args: { amount: 1 }, model: 'account' });
    }),
  );
  const started = await pair.node('n2').waitForLog((l) => l.msg === 'started');
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  // Served by the standby, so the page survives the primary's death without a reload.
  await page.goto(`http://${String(started.http)}/`);
  await page.locator('#diagram svg[data-loaded="true"]').waitFor({ timeout: 30_000 });
  await page.locator('#node-n1[data-link="live"][data-role="primary"]').waitFor({ timeout: 15_000 });
  await page.waitForTimeout(4000); // let the sparklines fill
  await pair.kill('n1');
  await page.locator('#node-n2[data-role="solo"]').waitFor({ timeout: 15_000 });
  await page.locator('#node-n1[data-link="lost"]').waitFor({ timeout: 15_000 });
  await page.waitForTimeout(1500);
  await page.screenshot({ path: out });
  process.stdout.write(`screenshot: wrote ${out}\n`);
  loading = false;
  await load;
} finally {
  loading = false;
  await nc.close();
  await browser.close();
  await pair.close();
  await nats.stop();
}
