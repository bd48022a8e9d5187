/**
 * The main thread's view of the run: every engine's interval snapshots added up index
 * by index (counters summed, histograms merged), plus the totals of the measured
 * intervals. Interval n covers [startMs + n * intervalMs, ...) on the shared clock.
 */
import { decodeHistogram, newHistogram, summarize, type Histogram, type LatencySummary } from './histogram';
import type { IntervalSnapshot } from './recorder';

export interface IntervalRow {
  index: number;
  /** Seconds from the start of the run to the start of this interval. */
  tS: number;
  lengthS: number;
  warmup: boolean;
  ok: number;
  rejected: number;
  errors: number;
  retries: number;
  /** The retries by reason (timeout, no-responders, NOT_PRIMARY, OVERLOADED). */
  retriesBy: Record<string, number>;
  /** Committed (ok + REJECTED) per second. */
  rate: number;
  latency: LatencySummary;
}

interface Slot {
  ok: number;
  rejected: number;
  issued: number;
  errors: Record<string, number>;
  retries: Record<string, number>;
  hist: Histogram;
  engines: number;
}

function addInto(to: Record<string, number>, from: Record<string, number>): void {
  for (const k in from) to[k] = (to[k] ?? 0) + from[k]!;
}

export class Aggregate {
  private readonly slots: Slot[] = [];
  /** By shard, the earliest arrival of a reply from each epoch of its pair, absolute ms. */
  readonly epochFirst = new Map<number, Map<number, number>>();
  private waiters: { test: () => boolean; resolve: () => void }[] = [];
  /** Interval index at which measuring starts, and one past the last measured. */
  measureFrom: number;
  measureTo: number;

  constructor(
    readonly startMs: number,
    readonly intervalMs: number,
    readonly engines: number,
    warmupMs: number,
    durationMs: number,
  ) {
    this.measureFrom = Math.ceil(warmupMs / intervalMs - 1e-9);
    this.measureTo = this.measureFrom + Math.ceil(durationMs / intervalMs - 1e-9);
  }

  /** Measured span end in absolute ms (the run stops sending there). */
  get measuredFromMs(): number {
    return this.startMs + this.measureFrom * this.intervalMs;
  }

  get measuredToMs(): number {
    return this.startMs + this.measureTo * this.intervalMs;
  }

  add(snap: IntervalSnapshot): void {
    let s = this.slots[snap.index];
    if (s === undefined) {
      for (let i = this.slots.length; i <= snap.index; i++)
        this.slots[i] ??= { ok: 0, rejected: 0, issued: 0, errors: {}, retries: {}, hist: newHistogram(), engines: 0 };
      s = this.slots[snap.index]!;
    }
    s.ok += snap.ok;
    s.rejected += snap.rejected;
    s.issued += snap.issued;
    s.engines++;
    addInto(s.errors, snap.errors);
    addInto(s.retries, snap.retries);
    if (snap.histogram !== '') s.hist.add(decodeHistogram(snap.histogram));
    for (const [shard, epoch, at] of snap.epochFirst) {
      let epochs = this.epochFirst.get(shard);
      if (epochs === undefined) this.epochFirst.set(shard, (epochs = new Map()));
      const seen = epochs.get(epoch);
      if (seen === undefined || at < seen) epochs.set(epoch, at);
    }
    if (this.waiters.length > 0) this.waiters = this.waiters.filter((w) => (w.test() ? (w.resolve(), false) : true));
  }

  private when(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  /** Resolves once every engine has reported interval `index`. */
  whenComplete(index: number): Promise<void> {
    return this.when(() => this.lastComplete() >= index);
  }

  /** Resolves with the earliest time (absolute ms) a reply from an epoch above `epoch` of shard `shard`'s pair arrived. */
  async whenEpochAbove(epoch: number, shard = 0): Promise<number> {
    const first = () => {
      let t = Infinity;
      for (const [e, at] of this.epochFirst.get(shard) ?? []) if (e > epoch && at < t) t = at;
      return t;
    };
    await this.when(() => first() < Infinity);
    return first();
  }

  /** The last interval every engine has reported, or -1. */
  lastComplete(): number {
    for (let i = this.slots.length - 1; i >= 0; i--) if (this.slots[i]!.engines >= this.engines) return i;
    return -1;
  }

  row(i: number, nowMs = Infinity): IntervalRow {
    const s = this.slots[i]!;
    const begin = this.startMs + i * this.intervalMs;
    const end = Math.min(begin + this.intervalMs, Math.max(begin + 1, nowMs));
    const lengthS = (end - begin) / 1000;
    let errors = 0;
    for (const k in s.errors) errors += s.errors[k]!;
    let retries = 0;
    for (const k in s.retries) retries += s.retries[k]!;
    return {
      index: i,
      tS: (i * this.intervalMs) / 1000,
      lengthS,
      warmup: i < this.measureFrom,
      ok: s.ok,
      rejected: s.rejected,
      errors,
      retries,
      retriesBy: { ...s.retries },
      rate: (s.ok + s.rejected) / lengthS,
      latency: summarize(s.hist),
    };
  }

  /** Every full interval up to the end of the measured span (the drain after it is not plotted). */
  rows(): IntervalRow[] {
    const out: IntervalRow[] = [];
    const last = Math.min(this.slots.length, this.measureTo);
    for (let i = 0; i < last; i++) out.push(this.row(i));
    return out;
  }

  /** Totals over the measured intervals. */
  totals(): Omit<Slot, 'engines'> & { seconds: number } {
    const hist = newHistogram();
    const errors: Record<string, number> = {};
    const retries: Record<string, number> = {};
    let ok = 0;
    let rejected = 0;
    let issued = 0;
    const to = Math.min(this.slots.length, this.measureTo);
    for (let i = this.measureFrom; i < to; i++) {
      const s = this.slots[i]!;
      ok += s.ok;
      rejected += s.rejected;
      issued += s.issued;
      addInto(errors, s.errors);
      addInto(retries, s.retries);
      hist.add(s.hist);
    }
    return { ok, rejected, issued, errors, retries, hist, seconds: (Math.max(0, to - this.measureFrom) * this.intervalMs) / 1000 };
  }

  /** Counts over the whole run including warm-up and the drain (for the audit's denominators). */
}
