/**
 * One load run: status watch, engines (main thread or workers) on a shared start
 * time, the live progress line, the stop and drain, the audit, and the report. The
 * drill drives the same run with no fixed end and stops it itself.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { TxClient } from '@txtest/client';
import { publicSettings, type LoadgenArgs } from './args';
import { Aggregate } from './aggregate';
import { runAudit, type AuditResult } from './audit';
import type { LedgerPartial } from './audit-ledger';
import type { EngineFinal } from './engine';
import { startEngines, type EngineHandle } from './engines';
import { encodeHistogram, percentileSpectrum, summarize } from './histogram';
import { connectNats } from '@txtest/transport-nats';
import { PrimaryWatch } from './primary-watch';
import { Progress } from './progress';
import { absNowMs } from './recorder';
import type { RunReport } from './report';

export class LoadRun {
  agg: Aggregate | null = null;
  private nc: NatsConnection | null = null;
  watch: PrimaryWatch | null = null;
  private engines: EngineHandle[] = [];
  private progress: Progress | null = null;
  private cpuAtMeasure: NodeJS.CpuUsage | null = null;
  private cpuTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly startedAt = new Date();

  constructor(
    readonly args: LoadgenArgs,
    private readonly o: { untilStopped?: boolean; stderr?: NodeJS.WriteStream } = {},
  ) {}

  /** Connects, starts the status watch and the engines, and starts the load. */
  async start(): Promise<void> {
    const a = this.args;
    this.nc = await connectNats(a.nats, 'txtest-loadgen-main');
    this.watch = new PrimaryWatch(this.nc, a.prefix, a.cluster, a.nodes);
    await this.watch.start();
    const stderr = this.o.stderr ?? process.stderr;
    const tty = stderr.isTTY === true;
    if (a.progress === 'on' || (a.progress === 'auto' && tty)) {
      this.progress = new Progress(stderr, () => this.agg, this.watch, tty);
      this.progress.start();
    }
    this.engines = await startEngines(a, (e) => this.agg!.add(e.snap));
    const startMs = absNowMs() + 20;
    const durationMs = this.o.untilStopped === true ? Infinity : a.durationS * 1000;
    this.agg = new Aggregate(startMs, a.intervalMs, this.engines.length, a.warmupS * 1000, durationMs);
    for (const e of this.engines) e.go(startMs);
    this.cpuTimer = setTimeout(() => (this.cpuAtMeasure = process.cpuUsage()), Math.max(0, this.agg.measuredFromMs - absNowMs()));
  }

  /** Resolves at the end of the measured span (never with untilStopped). */
  measured(): Promise<void> {
    const end = this.agg!.measuredToMs;
    if (!Number.isFinite(end)) return new Promise(() => undefined);
    // Timers may fire a fraction of a millisecond early by this clock: wait until the end has truly passed.
    return new Promise((resolve) => {
      const check = () => (absNowMs() >= end ? resolve() : setTimeout(check, Math.max(1, end - absNowMs())));
      check();
    });
  }

  /** Stops the load, drains, audits (with --audit) and returns the report. */
  async stop(): Promise<RunReport> {
    const a = this.args;
    const agg = this.agg!;
    const stopAt = absNowMs();
    agg.measureTo = Math.min(agg.measureTo, Math.max(agg.measureFrom, Math.floor((stopAt - agg.startMs) / a.intervalMs + 1e-6)));
    const cpuEnd = process.cpuUsage(this.cpuAtMeasure ?? undefined);
    if (this.cpuTimer !== null) clearTimeout(this.cpuTimer);
    let finals: EngineFinal[];
    try {
      finals = await Promise.all(this.engines.map((e) => e.stop()));
    } finally {
      this.progress?.stop();
      await this.watch!.stop();
    }
    let audit: AuditResult | null = null;
    if (a.audit) {
      const client = new TxClient(this.nc!, {
        prefix: a.prefix,
        cluster: a.cluster,
        shards: a.shards,
        attemptTimeoutMs: a.attemptTimeoutMs,
        deadlineMs: a.deadlineMs,
        backoffInitialMs: a.backoffInitialMs,
        backoffMaxMs: a.backoffMaxMs,
        inboxPrefix: a.nats.inboxPrefix,
      });
      try {
        audit = await runAudit(
          finals.map((f) => f.ledger as LedgerPartial),
          a.workload,
          client,
          this.nc!,
          { prefix: a.prefix, cluster: a.cluster, nodes: a.nodes, shards: a.shards },
        );
      } finally {
        client.close();
      }
    }
    const report = this.report(cpuEnd, audit);
    await this.nc!.close();
    return report;
  }

  private report(cpu: NodeJS.CpuUsage, audit: AuditResult | null): RunReport {
    const a = this.args;
    const agg = this.agg!;
    const t = agg.totals();
    const committed = t.ok + t.rejected;
    let errorsTotal = 0;
    for (const k in t.errors) errorsTotal += t.errors[k]!;
    let retriesTotal = 0;
    for (const k in t.retries) retriesTotal += t.retries[k]!;
    const rel = (ms: number) => Number(((ms - agg.startMs) / 1000).toFixed(3));
    return {
      tool: 'txtest-loadgen',
      reportVersion: 1,
      startedAt: this.startedAt.toISOString(),
      settings: publicSettings(a),
      mode: a.ratePerS !== null ? 'open loop' : 'closed loop',
      measured: {
        seconds: t.seconds,
        ok: t.ok,
        rejected: t.rejected,
        committed,
        updatesPerSec: t.seconds > 0 ? Math.round(committed / t.seconds) : 0,
        issued: t.issued,
        errors: t.errors,
        errorsTotal,
        timeouts: t.errors.TIMEOUT ?? 0,
        retries: t.retries,
        retriesTotal,
        latencyUs: summarize(t.hist),
        clientCpuUsPerUpdate: committed > 0 ? Number(((cpu.user + cpu.system) / committed).toFixed(2)) : 0,
      },
      intervals: agg.rows(),
      spectrum: percentileSpectrum(t.hist),
      histogram: t.hist.totalCount > 0 ? encodeHistogram(t.hist) : '',
      failovers: this.watch!.changes.map((c) => ({ tS: rel(c.atMs), shard: c.shard, from: c.from, to: c.to, epoch: c.epoch })),
      epochs: [...agg.epochFirst]
        .flatMap(([shard, epochs]) => [...epochs].map(([epoch, at]) => ({ shard, epoch, tS: rel(at) })))
        .sort((x, y) => x.shard - y.shard || x.epoch - y.epoch),
      audit,
      drill: null,
    };
  }
}
