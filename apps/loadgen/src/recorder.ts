/**
 * What one thread's drivers observed, cut into intervals aligned on the run's start
 * time, so the main thread can add up the intervals of every thread index by index.
 * Recording is the hot path: a counter bump and one histogram record per update.
 */
import { TxError } from '@txtest/protocol';
import type { UpdateResult } from '@txtest/client';
import { encodeHistogram, LATENCY_US_MAX, newHistogram, type Histogram } from './histogram';

/**
 * One interval of one thread, as posted to the main thread:
 * index n covers [startMs + n * intervalMs, startMs + (n + 1) * intervalMs) in
 * absolute milliseconds (performance.timeOrigin + performance.now(), comparable across threads).
 */
export interface IntervalSnapshot {
  index: number;
  ok: number;
  rejected: number;
  /** Non-retryable refusals and timeouts, by code (TIMEOUT: no outcome before the deadline). */
  errors: Record<string, number>;
  /** Retries by reason (timeout, no-responders, NOT_PRIMARY, OVERLOADED, ...). */
  retries: Record<string, number>;
  issued: number;
  /** Compressed base64 HdrHistogram of latencies in µs; '' when empty. */
  histogram: string;
  /** First time (absolute ms) a reply from each newly seen epoch of a shard's pair arrived. */
  epochFirst: [shard: number, epoch: number, atMs: number][];
}

/** Absolute milliseconds, comparable between worker threads. */
export function absNowMs(): number {
  return performance.timeOrigin + performance.now();
}

export class Recorder {
  private readonly hist: Histogram = newHistogram();
  private ok = 0;
  private rejected = 0;
  private issued = 0;
  private errors: Record<string, number> = {};
  private retries: Record<string, number> = {};
  private epochFirst: [number, number, number][] = [];
  /** By shard: each pair has epochs of its own. */
  private readonly epochMax: number[] = [];
  private index = 0;

  readonly onRetry = (reason: string): void => {
    this.retries[reason] = (this.retries[reason] ?? 0) + 1;
  };

  sent(): void {
    this.issued++;
  }

  /** A committed outcome (ok or REJECTED) from shard `shard`'s pair after `latencyUs`. */
  result(r: UpdateResult, latencyUs: number, shard: number): void {
    if (r.ok) this.ok++;
    else this.rejected++;
    this.hist.recordValue(latencyUs < 1 ? 1 : latencyUs > LATENCY_US_MAX ? LATENCY_US_MAX : Math.round(latencyUs));
    if (r.epoch > (this.epochMax[shard] ?? 0)) {
      this.epochMax[shard] = r.epoch;
      this.epochFirst.push([shard, r.epoch, absNowMs()]);
    }
  }

  /** An update that ended without a committed outcome. */
  failed(err: unknown): void {
    const code = err instanceof TxError ? err.code : 'CLIENT_ERROR';
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  /** Closes the current interval and starts the next. */
  cut(): IntervalSnapshot {
    const snap: IntervalSnapshot = {
      index: this.index++,
      ok: this.ok,
      rejected: this.rejected,
      errors: this.errors,
      retries: this.retries,
      issued: this.issued,
      histogram: this.hist.totalCount === 0 ? '' : encodeHistogram(this.hist),
      epochFirst: this.epochFirst,
    };
    this.hist.reset();
    this.ok = 0;
    this.rejected = 0;
    this.issued = 0;
    this.errors = {};
    this.retries = {};
    this.epochFirst = [];
    return snap;
  }
}
