/**
 * Open loop at a fixed arrival rate, as wrk2 does it: update n is *intended* to leave
 * at start + n / rate, whatever happened to the others, and its latency is measured
 * from that intended time. When the system stalls, the updates that should have left
 * during the stall are sent late and their wait counts, so a 300 ms failover shows up
 * in every percentile it affects (coordinated omission corrected), not as one slow
 * request. A tick sends everything due, so at high rates one tick is one batch.
 *
 * Updates in flight are capped (OUTSTANDING_MAX per client): beyond it sending waits,
 * and the wait still counts, since latency is from the intended time.
 */
import type { TxClient, UpdateInput, UpdateResult } from '@txtest/client';
import type { AuditLedger } from './audit-ledger';
import type { Driver } from './driver-closed';
import type { Recorder } from './recorder';
import type { Workload } from './workloads/workload';

export const OUTSTANDING_MAX = 100_000;

class Slot {
  input: UpdateInput | null = null;
  intendedAt = 0;
  readonly onOk: (r: UpdateResult) => void;
  readonly onErr: (e: unknown) => void;

  constructor(d: OpenLoopDriver) {
    this.onOk = (r) => d.completed(this, r);
    this.onErr = (e) => d.failed(this, e);
  }
}

export class OpenLoopDriver implements Driver {
  private readonly free: Slot[] = [];
  private outstanding = 0;
  private sent = 0;
  private t0 = 0;
  private readonly intervalMs: number;
  private stopping = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private drained: (() => void) | null = null;
  private readonly tickFn = () => this.tick();

  constructor(
    private readonly client: TxClient,
    private readonly workload: Workload,
    private readonly recorder: Recorder,
    private readonly ledger: AuditLedger | null,
    ratePerS: number,
  ) {
    this.intervalMs = 1000 / ratePerS;
  }

  start(): void {
    this.t0 = performance.now();
    this.tick();
  }

  private tick(): void {
    this.timer = null;
    if (this.stopping) return;
    const now = performance.now();
    const due = Math.floor((now - this.t0) / this.intervalMs) + 1;
    while (this.sent < due && this.outstanding < OUTSTANDING_MAX) {
      const s = this.free.pop() ?? new Slot(this);
      s.intendedAt = this.t0 + this.sent * this.intervalMs;
      this.sent++;
      this.outstanding++;
      const u = this.workload.next(this.client.newId());
      s.input = u;
      this.recorder.sent();
      this.client.update(u).then(s.onOk, s.onErr);
    }
    // Sleep until the next intended send (timers are ~1 ms grained; what is due by then goes together).
    const next = this.t0 + this.sent * this.intervalMs;
    this.timer = setTimeout(this.tickFn, Math.max(0, next - performance.now()));
  }

  private release(s: Slot): void {
    s.input = null;
    this.free.push(s);
    if (--this.outstanding === 0 && this.stopping) this.drained?.();
  }

  completed(s: Slot, r: UpdateResult): void {
    const shard = this.client.shardOf(s.input!.asset);
    this.recorder.result(r, (performance.now() - s.intendedAt) * 1000, shard);
    this.workload.onResult(s.input!, r);
    this.ledger?.result(s.input!, r, shard);
    this.release(s);
  }

  failed(s: Slot, e: unknown): void {
    this.recorder.failed(e);
    this.ledger?.failed(s.input!, e);
    this.release(s);
  }

  stop(): Promise<void> {
    this.stopping = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => (this.drained = resolve));
  }
}
