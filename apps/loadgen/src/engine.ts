/**
 * One thread's share of the load: its client connections, a driver per client, one
 * recorder and (under --audit) one ledger. The same code runs in the main thread
 * (one client) and in each worker thread (worker.ts); either way it reports through
 * `emit`, an interval at each boundary of the run's shared clock.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { TxClient } from '@txtest/client';
import type { NatsSettings } from '@txtest/transport-nats';
import type { WorkloadName } from './args';
import { AuditLedger, type LedgerPartial } from './audit-ledger';
import { ClosedLoopDriver, type Driver } from './driver-closed';
import { OpenLoopDriver } from './driver-open';
import { connectNats } from '@txtest/transport-nats';
import { absNowMs, Recorder, type IntervalSnapshot } from './recorder';
import { makeWorkload } from './workloads/workload';

/** Plain data (it crosses to worker threads by structured clone). */
export interface EngineConfig {
  engineIndex: number;
  nats: NatsSettings;
  prefix: string;
  cluster: string;
  shards: number;
  /** One entry per client of this engine: its in-flight window (closed loop) or its rate (open loop). */
  windows: number[] | null;
  rates: number[] | null;
  batch: boolean;
  workload: WorkloadName;
  assets: number;
  instruments: number;
  zipfS: number;
  assetPrefix: string;
  seed: number;
  attemptTimeoutMs: number;
  deadlineMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  intervalMs: number;
  audit: boolean;
}

export interface EngineFinal {
  engineIndex: number;
  ledger: LedgerPartial | null;
}

export type EngineEvent = { kind: 'interval'; engineIndex: number; snap: IntervalSnapshot };

export class Engine {
  private readonly recorder = new Recorder();
  private readonly ledger: AuditLedger | null;
  private drivers: Driver[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private startMs = 0;
  private nextIndex = 0;

  private constructor(
    private readonly cfg: EngineConfig,
    private readonly conns: NatsConnection[],
    private readonly clients: TxClient[],
    private readonly emit: (e: EngineEvent) => void,
  ) {
    this.ledger = cfg.audit ? new AuditLedger(cfg.workload) : null;
  }

  static async create(cfg: EngineConfig, emit: (e: EngineEvent) => void): Promise<Engine> {
    const n = (cfg.windows ?? cfg.rates)!.length;
    const conns = await Promise.all(Array.from({ length: n }, (_, i) => connectNats(cfg.nats, `txtest-loadgen-${cfg.engineIndex}.${i}`)));
    const e = new Engine(cfg, conns, [], emit);
    for (const nc of conns) {
      e.clients.push(
        new TxClient(nc, {
          prefix: cfg.prefix,
          cluster: cfg.cluster,
          shards: cfg.shards,
          batching: cfg.batch,
          attemptTimeoutMs: cfg.attemptTimeoutMs,
          deadlineMs: cfg.deadlineMs,
          backoffInitialMs: cfg.backoffInitialMs,
          backoffMaxMs: cfg.backoffMaxMs,
          onRetry: e.recorder.onRetry,
          inboxPrefix: cfg.nats.inboxPrefix,
        }),
      );
    }
    return e;
  }

  /** Starts every driver; intervals are cut at startMs + k * intervalMs (absolute ms). */
  go(startMs: number): void {
    this.startMs = startMs;
    const c = this.cfg;
    this.drivers = this.clients.map((client, i) => {
      const workload = makeWorkload({
        name: c.workload,
        assets: c.assets,
        instruments: c.instruments,
        zipfS: c.zipfS,
        assetPrefix: c.assetPrefix,
        seed: (c.seed + 7919 * (c.engineIndex * 1024 + i)) >>> 0,
        tag: `${c.engineIndex}.${i}.${c.seed.toString(36)}`,
      });
      return c.windows !== null
        ? new ClosedLoopDriver(client, workload, this.recorder, this.ledger, c.windows[i]!)
        : new OpenLoopDriver(client, workload, this.recorder, this.ledger, c.rates![i]!);
    });
    for (const d of this.drivers) d.start();
    this.schedule();
  }

  private schedule(): void {
    const at = this.startMs + (this.nextIndex + 1) * this.cfg.intervalMs;
    this.timer = setTimeout(
      () => {
        this.nextIndex++;
        this.emit({ kind: 'interval', engineIndex: this.cfg.engineIndex, snap: this.recorder.cut() });
        this.schedule();
      },
      Math.max(0, at - absNowMs()),
    );
  }

  /**
   * Stops sending, waits for every update in flight to have an outcome, emits the
   * last (partial) interval, then settles the audit ledger (retries with the same ids).
   */
  async stop(): Promise<EngineFinal> {
    // Boundaries already passed belong to the measured span, not to the drain.
    while (this.timer !== null && absNowMs() >= this.startMs + (this.nextIndex + 1) * this.cfg.intervalMs) {
      this.nextIndex++;
      this.emit({ kind: 'interval', engineIndex: this.cfg.engineIndex, snap: this.recorder.cut() });
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await Promise.all(this.drivers.map((d) => d.stop()));
    this.emit({ kind: 'interval', engineIndex: this.cfg.engineIndex, snap: this.recorder.cut() });
    const ledger = this.ledger === null ? null : await this.ledger.finish(this.clients[0]!);
    for (const c of this.clients) c.close();
    await Promise.all(this.conns.map((nc) => nc.close()));
    return { engineIndex: this.cfg.engineIndex, ledger };
  }
}
