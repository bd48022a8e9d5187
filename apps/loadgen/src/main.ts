#!/usr/bin/env node
/**
 * txtest-loadgen (first cut): a closed-loop account workload against a cluster subject,
 * printing committed updates/s and latency percentiles. The full tool (open loop,
 * workloads, reports, audit, drills) grows from here.
 */
import { connect } from '@nats-io/transport-node';
import { TxClient } from '@txtest/client';
import { parseArgs } from './args';
import { req } from './req';

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const conns = await Promise.all(Array.from({ length: a.clients }, () => connect({ servers: a.nats, name: 'txtest-loadgen', noAsyncTraces: true })));
  const clients = conns.map((nc) => new TxClient(nc, { prefix: a.prefix, cluster: a.cluster, batching: a.batch }));
  let issued = 0;
  let committed = 0;
  let errors = 0;
  let measuring = false;
  const latUs: number[] = [];
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const warmupEnd = t0 + a.warmupS * 1000;
  const end = warmupEnd + a.durationS * 1000;
  let measuredFrom = warmupEnd;

  async function worker(client: TxClient): Promise<void> {
    for (;;) {
      const now = performance.now();
      if (now >= end) return;
      if (!measuring && now >= warmupEnd) {
        measuring = true;
        measuredFrom = now;
      }
      const i = issued++;
      const asset = `acct-${i % a.assets}`;
      const start = performance.now();
      try {
        await client.update({ asset, op: 'credit', args: { amount: 1 }, model: 'account' });
        if (measuring) {
          committed++;
          latUs.push((performance.now() - start) * 1000);
        }
      } catch {
        errors++;
      }
    }
  }
  await Promise.all(Array.from({ length: a.inFlight }, (_, i) => worker(clients[i % clients.length]!)));
  const seconds = (performance.now() - measuredFrom) / 1000;
  const cpu = process.cpuUsage(cpu0);
  latUs.sort((x, y) => x - y);
  const pct = (p: number) => (latUs.length === 0 ? 0 : latUs[Math.min(latUs.length - 1, Math.floor(p * latUs.length))]!);
  const report = {
    clients: a.clients,
    inFlight: a.inFlight,
    batch: a.batch,
    assets: a.assets,
    seconds: Number(seconds.toFixed(2)),
    committed,
    updatesPerSec: Math.round(committed / seconds),
    errors,
    p50Us: Math.round(pct(0.5)),
    p99Us: Math.round(pct(0.99)),
    p999Us: Math.round(pct(0.999)),
    clientCpuUsPerUpdate: Number(((cpu.user + cpu.system) / Math.max(1, issued)).toFixed(2)),
  };
  process.stdout.write(`${a.json ? JSON.stringify(report) : Object.entries(report).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
  for (const c of clients) c.close();
  await Promise.all(conns.map((nc) => nc.close()));
}

const run = process.argv[2] === 'req' ? req(process.argv.slice(3)) : main();
run.catch((err: Error) => {
  process.stderr.write(`txtest-loadgen: ${err.message}\n`);
  process.exit(1);
});
