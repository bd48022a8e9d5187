/**
 * The scaling figure of docs/SHARDING.md: for each shard count S (default 1, 2, 4) a
 * private nats-server and S pairs (testkit), then the loadgen with `--shards S` (account
 * credits, batching, `--in-flight` over all shards) for a fixed time. Prints committed
 * updates/s and the CPU each process spent per update it handled, from /proc: each
 * shard's primary and standby per update of their own shard, the nats-server and the
 * loadgen per update of the whole run. On a machine with fewer cores than processes the
 * total flattens; the per-shard cost is what says whether S pairs scale.
 * With `--per-shard N` the window is N in flight per shard (N * S in all); with
 * `--rate-per-shard R` an open loop of R updates/s per shard (R * S in all), so that each
 * pair does the same work whatever S; without either, `--in-flight` is split over the
 * shards.
 * Run: npx tsx tools/bench/shards.ts [--shards 1,2,4] [--in-flight 1024 | --per-shard 256 | --rate-per-shard 4000] [--duration 10]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { nodeStatus, runLoadgen, startNatsServer, TestPair } from '@txtest/testkit';

const { values } = parseArgs({
  options: {
    shards: { type: 'string', default: '1,2,4' },
    'in-flight': { type: 'string', default: '1024' },
    'per-shard': { type: 'string' },
    'rate-per-shard': { type: 'string' },
    duration: { type: 'string', default: '10' },
  },
});
const counts = values.shards.split(',').map(Number);
/** The loadgen's window or rate for S shards, and how the table shows it. */
function loadOf(shards: number): { args: string[]; shown: string } {
  const rate = values['rate-per-shard'];
  if (rate !== undefined) return { args: ['--rate', String(Number(rate) * shards)], shown: `${Number(rate) * shards}/s` };
  return { args: ['--in-flight', inFlightOf(shards)], shown: `${inFlightOf(shards)} in flight` };
}
const inFlightOf = (shards: number) => String(values['per-shard'] === undefined ? Number(values['in-flight']) : Number(values['per-shard']) * shards);
const durationS = Number(values.duration);

/** CPU time (user + system) a process has used, in µs (/proc/<pid>/stat, clock ticks of 10 ms). */
function cpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

interface Row {
  shards: number;
  rate: number;
  primaryUs: number[];
  standbyUs: number[];
  natsUs: number;
  clientUs: number;
}

async function measure(shards: number): Promise<Row> {
  const nats = await startNatsServer();
  const pairs = Array.from({ length: shards }, (_, index) => new TestPair({ natsUrl: nats.url, shard: { index, count: shards } }));
  let nc: NatsConnection | null = null;
  try {
    await Promise.all(pairs.flatMap((p) => p.ids.map((id) => p.start(id))));
    await Promise.all(pairs.flatMap((p) => [p.waitRole(p.ids[0], 'primary'), p.waitRole(p.ids[1], 'standby')]));
    nc = await connect({ servers: nats.url });
    const seqs = async () => Promise.all(pairs.map(async (p) => (await nodeStatus(nc!, p.ids[0])).lastSeq));
    const procs = pairs.flatMap((p) => p.ids.map((id) => p.node(id).pid));
    const seq0 = await seqs();
    const cpu0 = procs.map(cpuUs);
    const nats0 = cpuUs(nats.pid);
    const args = [
      '--nats',
      nats.url,
      '--shards',
      String(shards),
      ...loadOf(shards).args,
      '--batch',
      'on',
      '--assets',
      '100000',
      '--duration',
      String(durationS),
      '--warmup',
      '2',
    ];
    const run = await runLoadgen([...args, '--json', '-'], {}, (durationS + 60) * 1000);
    if (run.code !== 0) throw new Error(`loadgen exit ${run.code}: ${run.stderr.slice(-400)}`);
    const cpu1 = procs.map(cpuUs);
    const nats1 = cpuUs(nats.pid);
    const seq1 = await seqs();
    const done = seq1.map((s, k) => s - seq0[k]!);
    const total = done.reduce((a, b) => a + b, 0);
    const report = JSON.parse(run.stdout) as { measured: { updatesPerSec: number; clientCpuUsPerUpdate: number } };
    const per = (k: number, j: number) => (cpu1[2 * k + j]! - cpu0[2 * k + j]!) / done[k]!;
    return {
      shards,
      rate: report.measured.updatesPerSec,
      primaryUs: pairs.map((_, k) => per(k, 0)),
      standbyUs: pairs.map((_, k) => per(k, 1)),
      natsUs: (nats1 - nats0) / total,
      clientUs: report.measured.clientCpuUsPerUpdate,
    };
  } finally {
    await nc?.close();
    await Promise.all(pairs.map((p) => p.close()));
    await nats.stop();
  }
}

const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' / ');
console.log(
  `| shards | load | committed updates/s | primary µs/update (each shard) | standby µs/update (each shard) | nats-server µs/update | loadgen µs/update |`,
);
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const s of counts) {
  const r = await measure(s);
  console.log(
    `| ${r.shards} | ${loadOf(s).shown} | ${Math.round(r.rate).toLocaleString('en-US')} | ${fmt(r.primaryUs)} | ${fmt(r.standbyUs)} | ${r.natsUs.toFixed(1)} | ${r.clientUs.toFixed(1)} |`,
  );
}
