/**
 * Closed loop: a fixed window of updates in flight per client; each completion sends
 * the next. Latency is the service time as this window sees it (a closed loop cannot
 * measure what a stall does to requests it never sent: use --rate for that).
 *
 * Each window slot is one object with its callbacks bound once, so an update costs
 * the workload's request object and the client's promise, no closure of ours.
 */
import type { TxClient, UpdateInput, UpdateResult } from '@txtest/client';
import type { AuditLedger } from './audit-ledger';
import type { Recorder } from './recorder';
import type { Workload } from './workloads/workload';

export interface Driver {
  start(): void;
  /** Stops sending; resolves once every update sent has an outcome. */
  stop(): Promise<void>;
}

class Slot {
  input: UpdateInput | null = null;
  sentAt = 0;
  readonly onOk: (r: UpdateResult) => void;
  readonly onErr: (e: unknown) => void;

  constructor(d: ClosedLoopDriver) {
    this.onOk = (r) => d.completed(this, r);
    this.onErr = (e) => d.failed(this, e);
  }
}

export class ClosedLoopDriver implements Driver {
  private readonly slots: Slot[];
  private stopping = false;
  private busy = 0;
  private drained: (() => void) | null = null;

  constructor(
    private readonly client: TxClient,
    private readonly workload: Workload,
    private readonly recorder: Recorder,
    private readonly ledger: AuditLedger | null,
    window: number,
  ) {
    this.slots = Array.from({ length: window }, () => new Slot(this));
  }

  start(): void {
    for (const s of this.slots) this.issue(s);
  }

  private issue(s: Slot): void {
    if (this.stopping) {
      s.input = null;
      if (--this.busy === 0) this.drained?.();
      return;
    }
    if (s.input === null) this.busy++;
    const u = this.workload.next(this.client.newId());
    s.input = u;
    this.recorder.sent();
    s.sentAt = performance.now();
    this.client.update(u).then(s.onOk, s.onErr);
  }

  completed(s: Slot, r: UpdateResult): void {
    const shard = this.client.shardOf(s.input!.asset);
    this.recorder.result(r, (performance.now() - s.sentAt) * 1000, shard);
    this.workload.onResult(s.input!, r);
    this.ledger?.result(s.input!, r, shard);
    this.issue(s);
  }

  failed(s: Slot, e: unknown): void {
    this.recorder.failed(e);
    this.ledger?.failed(s.input!, e);
    this.issue(s);
  }

  stop(): Promise<void> {
    this.stopping = true;
    if (this.busy === 0) return Promise.resolve();
    return new Promise((resolve) => (this.drained = resolve));
  }
}
