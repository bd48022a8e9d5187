/**
 * Histograms and reports: interval snapshots of several threads add up exactly, the
 * percentiles come from the merged HdrHistogram, and the table, the JSON and the HTML
 * page carry the figures. The page is opened in headless chromium: its three plots
 * must be drawn with real points and the failover marked (a screenshot is kept in tmp/).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Aggregate } from '../src/aggregate';
import { decodeHistogram, newHistogram, summarize } from '../src/histogram';
import { Recorder } from '../src/recorder';
import { reportJson } from '../src/output';
import { reportHtml } from '../src/report-html';
import { reportTable } from '../src/report-table';
import { REPO, syntheticReport } from './helpers';

const ok = { id: 'x', ok: true as const, asset: 'a', version: 1, seq: 1, epoch: 1, result: {} };

describe('histograms', () => {
  it('interval snapshots of two threads merge into exactly the histogram of all values', () => {
    const all = newHistogram();
    const agg = new Aggregate(0, 1000, 2, 0, 2000);
    for (let t = 0; t < 2; t++) {
      const rec = new Recorder();
      for (let i = 0; i < 2; i++) {
        for (let k = 1; k <= 1000; k++) {
          const us = k * (t + 1) * (i + 1);
          rec.result(ok, us, 0);
          all.recordValue(us);
        }
        rec.failed(new Error('boom'));
        agg.add(rec.cut());
      }
    }
    const totals = agg.totals();
    expect(totals.ok).toBe(4000);
    expect(totals.errors).toEqual({ CLIENT_ERROR: 4 });
    // Equal up to HdrHistogram's resolution: a decoded maximum is its bucket's highest equivalent value.
    const { maxUs, ...merged } = summarize(totals.hist);
    const { maxUs: maxAll, ...direct } = summarize(all);
    expect(merged).toEqual(direct);
    expect(maxUs / maxAll).toBeCloseTo(1, 2);
    expect(agg.lastComplete()).toBe(1);
  });

  it('the snapshot carries the standard compressed encoding, and an empty interval none', () => {
    const rec = new Recorder();
    for (let k = 1; k <= 100; k++) rec.result(ok, k * 10, 0);
    const snap = rec.cut();
    const h = decodeHistogram(snap.histogram);
    expect(h.totalCount).toBe(100);
    expect(h.getValueAtPercentile(99)).toBeGreaterThanOrEqual(985);
    expect(rec.cut().histogram).toBe('');
  });

  it('warm-up intervals are plotted but not counted', () => {
    const agg = new Aggregate(0, 500, 1, 1000, 1000);
    const rec = new Recorder();
    for (let i = 0; i < 5; i++) {
      for (let k = 0; k < 10 * (i + 1); k++) rec.result(ok, 100, 0);
      agg.add(rec.cut());
    }
    expect(agg.rows().map((r) => r.warmup)).toEqual([true, true, false, false]);
    expect(agg.totals().ok).toBe(30 + 40);
    expect(agg.totals().seconds).toBe(1);
  });
});

describe('reports', () => {
  const r = syntheticReport();

  it('the table gives rate, the five percentiles, errors, retries, CPU and the failover', () => {
    const t = reportTable(r);
    for (const s of [
      'committed updates/s',
      'p50',
      'p90',
      'p99 ',
      'p99.9',
      'max',
      'errors',
      'timeouts',
      'retries',
      'client CPU per update',
      'n1 -> n2 at 6.20 s',
    ])
      expect(t).toContain(s);
  });

  it('the JSON holds every figure and the settings', () => {
    const j = JSON.parse(reportJson(r)) as typeof r;
    expect(j.settings.workload).toBe('account');
    expect(j.measured.latencyUs.p999Us).toBeGreaterThan(j.measured.latencyUs.p50Us);
    expect(j.intervals.length).toBe(40);
    expect(j.spectrum.length).toBeGreaterThan(40);
    expect(decodeHistogram(j.histogram).totalCount).toBe(j.measured.latencyUs.count);
  });

  describe('the HTML page in headless chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('draws throughput, latency over time and the distribution, with the failover marked, using no network', async () => {
      const html = reportHtml(r);
      expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
      const page = await browser.newPage({ viewport: { width: 1100, height: 1300 } });
      const requests: string[] = [];
      page.on('request', (q) => requests.push(q.url()));
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.setContent(html, { waitUntil: 'load' });
      await page.waitForSelector('body[data-plots-drawn]');
      expect(errors).toEqual([]);
      const segments = async (plot: string, series: string) =>
        page.$eval(`#${plot} path.series[data-series="${series}"]`, (p) => (p.getAttribute('d')!.match(/L/g) ?? []).length);
      expect(await segments('plot-throughput', 'committed/s')).toBeGreaterThanOrEqual(35);
      for (const s of ['p50', 'p99', 'p99.9', 'max']) expect(await segments('plot-latency', s)).toBeGreaterThanOrEqual(35);
      expect(await segments('plot-distribution', 'latency')).toBeGreaterThanOrEqual(40);
      // The path really spans the plot (points are not all on one spot).
      const box = await page.$eval('#plot-throughput path.series', (p) => (p as unknown as { getBBox(): { width: number } }).getBBox().width);
      expect(box).toBeGreaterThan(500);
      expect(await page.$$eval('#plot-throughput line.failover', (ls) => ls.map((l) => l.getAttribute('data-label')))).toEqual(['failover → n2']);
      expect(await page.$$eval('#plot-latency line.failover', (ls) => ls.length)).toBe(1);
      expect(requests.filter((u) => !u.startsWith('about:') && !u.startsWith('data:'))).toEqual([]);
      mkdirSync(`${REPO}tmp/test-artifacts`, { recursive: true });
      writeFileSync(`${REPO}tmp/test-artifacts/loadgen-report.html`, html);
      await page.screenshot({ path: `${REPO}tmp/test-artifacts/loadgen-report.png`, fullPage: true });
      await page.close();
    });
  });
});
