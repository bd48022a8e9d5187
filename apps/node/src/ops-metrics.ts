/**
 * The metrics the alert rules and the dashboard need beyond the node's state
 * (infra/observability, docs/OPERATIONS.md "Alerts"): error replies by code, NATS
 * reconnects, the newest snapshot's age and write time, the data directory's size,
 * and the V8 heap limit the heap is measured against.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { NodeStats } from '@txtest/cluster';

/** Bytes of the regular files under `dir`, recursively (0 when it does not exist yet). */
export async function dirBytes(dir: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let n = 0;
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += await dirBytes(p);
    else if (e.isFile())
      n += await stat(p).then(
        (s) => s.size,
        () => 0,
      );
  }
  return n;
}

/**
 * A counter by one label whose totals the core keeps (`read`: label value -> count, or
 * undefined before the node exists): a scrape copies them, since they only grow.
 */
export function totalsByLabel(
  registers: Registry[],
  name: string,
  help: string,
  label: string,
  read: () => Record<string, number> | null | undefined,
): Counter<string> {
  return new Counter({
    name,
    help,
    labelNames: [label],
    registers,
    collect() {
      this.reset();
      const totals = read();
      if (totals) for (const [value, n] of Object.entries(totals)) this.inc({ [label]: value }, n);
    },
  });
}

/** Registers the gauges and counters; returns what the NATS connection's status loop calls. */
export function opsMetrics(registers: Registry[], stats: () => NodeStats | null, dataDir: string, now: () => number): { natsReconnected(): void } {
  totalsByLabel(
    registers,
    'txtest_errors_total',
    'Error replies sent to clients, by code (PROTOCOL.md section 7; REJECTED: a model refused an update).',
    'code',
    () => stats()?.errors,
  );
  const reconnects = new Counter({ name: 'txtest_nats_reconnects_total', help: 'Times the NATS connection was re-established after a loss.', registers });
  new Gauge({
    name: 'txtest_snapshot_seq',
    help: 'Seq of the newest snapshot this node holds (0: none).',
    registers,
    collect() {
      const s = stats();
      if (s !== null) this.set(s.snapshot.seq);
    },
  });
  new Gauge({
    name: 'txtest_snapshot_age_seconds',
    help: 'Time since this process last wrote a snapshot. Absent before the first.',
    registers,
    collect() {
      this.reset();
      const at = stats()?.snapshot.writtenAtMs;
      if (at !== null && at !== undefined) this.set((now() - at) / 1000);
    },
  });
  new Gauge({
    name: 'txtest_snapshot_duration_seconds',
    help: 'How long the last snapshot this process wrote took, start to file in place. Absent before the first.',
    registers,
    collect() {
      this.reset();
      const ms = stats()?.snapshot.writeMs;
      if (ms !== null && ms !== undefined) this.set(ms / 1000);
    },
  });
  new Gauge({
    name: 'txtest_data_dir_bytes',
    help: "Bytes in the node's data directory (log segments, snapshots, epoch record).",
    registers,
    async collect() {
      this.set(await dirBytes(dataDir));
    },
  });
  new Gauge({
    name: 'txtest_heap_limit_bytes',
    help: 'The V8 heap size limit: the process dies of "heap out of memory" past it (compare txtest_process_nodejs_heap_size_used_bytes).',
    registers,
    collect() {
      this.set(getHeapStatistics().heap_size_limit);
    },
  });
  return { natsReconnected: () => reconnects.inc() };
}
