/** Shared by the loadgen tests: a report built from real recorders, and running the CLI. */
import { fileURLToPath } from 'node:url';
import { Aggregate } from '../src/aggregate';
import { encodeHistogram, percentileSpectrum } from '../src/histogram';
import { Recorder } from '../src/recorder';
import type { RunReport } from '../src/report';
import type { UpdateResult } from '@txtest/client';
import { runLoadgen } from '@txtest/testkit';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

const ok = (epoch: number): UpdateResult => ({ id: 'x', ok: true, asset: 'a', version: 1, seq: 1, epoch, result: {} });

/**
 * Two "engines" over 40 intervals of 250 ms: a steady load with latencies around 1-3 ms,
 * a failover at 6 s (no replies for one interval, then a burst of slow ones in epoch 2).
 */
export function syntheticReport(): RunReport {
  const agg = new Aggregate(1_000_000, 250, 2, 1000, 9000);
  for (let e = 0; e < 2; e++) {
    const rec = new Recorder();
    for (let i = 0; i < 40; i++) {
      const stalled = i === 24;
      const n = stalled ? 0 : 2000 + ((i * 37) % 300);
      for (let k = 0; k < n; k++) {
        const slow = i === 25 && k < 300;
        rec.sent();
        rec.result(ok(i >= 25 ? 2 : 1), slow ? 200_000 + k * 100 : 800 + ((k * 7919) % 2500) + (k % 1000 === 0 ? 20_000 : 0), 0);
      }
      if (stalled) for (let k = 0; k < 50; k++) rec.onRetry('timeout');
      agg.add(rec.cut());
    }
  }
  const t = agg.totals();
  return {
    tool: 'txtest-loadgen',
    reportVersion: 1,
    startedAt: '2026-11-26T12:00:00.000Z',
    settings: {
      nats: { url: 'nats://127.0.0.1:4222', auth: [], tls: false },
      workload: 'account',
      clients: 2,
      workers: 2,
      inFlight: 64,
      ratePerS: null,
      batch: true,
      warmupS: 1,
      durationS: 9,
    },
    mode: 'closed loop',
    measured: {
      seconds: t.seconds,
      ok: t.ok,
      rejected: t.rejected,
      committed: t.ok + t.rejected,
      updatesPerSec: Math.round((t.ok + t.rejected) / t.seconds),
      issued: t.issued,
      errors: t.errors,
      errorsTotal: 0,
      timeouts: 0,
      retries: t.retries,
      retriesTotal: 100,
      latencyUs: {
        count: t.hist.totalCount,
        p50Us: t.hist.getValueAtPercentile(50),
        p90Us: t.hist.getValueAtPercentile(90),
        p99Us: t.hist.getValueAtPercentile(99),
        p999Us: t.hist.getValueAtPercentile(99.9),
        maxUs: t.hist.maxValue,
        meanUs: Math.round(t.hist.mean),
      },
      clientCpuUsPerUpdate: 9.5,
    },
    intervals: agg.rows(),
    spectrum: percentileSpectrum(t.hist),
    histogram: encodeHistogram(t.hist),
    failovers: [
      { tS: 0.1, shard: 0, from: null, to: 'n1', epoch: 1 },
      { tS: 6.2, shard: 0, from: 'n1', to: 'n2', epoch: 2 },
    ],
    epochs: [
      { shard: 0, epoch: 1, tS: 0.01 },
      { shard: 0, epoch: 2, tS: 6.25 },
    ],
    audit: null,
    drill: null,
  };
}

/** Runs the loadgen CLI as a user would (node bin/txtest-loadgen.js ...). */
export const runCli = runLoadgen;
