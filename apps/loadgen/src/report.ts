/**
 * The run's report: every figure and the settings, as one plain object. The table,
 * the JSON file and the HTML page are three renderings of it.
 */
import type { IntervalRow } from './aggregate';
import type { AuditResult } from './audit';
import type { LatencySummary } from './histogram';

export interface FailoverMark {
  /** Seconds from the start of the run. */
  tS: number;
  shard: number;
  from: string | null;
  to: string | null;
  epoch: number;
}

export interface DrillKill {
  n: number;
  /** The shard whose primary was killed (0 unsharded). */
  shard: number;
  killed: string;
  pid: number;
  epoch: number;
  /** Seconds from the start of the run. */
  killAtS: number;
  /** Kill to the first ok from the new primary (a reply in a higher epoch). */
  gapMs: number | null;
  newPrimary: string | null;
  /** Committed/s before the kill (mean of the preceding intervals) and the lowest interval after it. */
  rateBefore: number;
  rateMinAfter: number;
  /** 1 - rateMinAfter / rateBefore, in percent. */
  dipPct: number;
}

export interface RunReport {
  tool: 'txtest-loadgen';
  reportVersion: 1;
  startedAt: string;
  settings: Record<string, unknown>;
  mode: 'closed loop' | 'open loop';
  measured: {
    seconds: number;
    ok: number;
    rejected: number;
    committed: number;
    updatesPerSec: number;
    issued: number;
    errors: Record<string, number>;
    errorsTotal: number;
    timeouts: number;
    retries: Record<string, number>;
    retriesTotal: number;
    latencyUs: LatencySummary;
    clientCpuUsPerUpdate: number;
  };
  intervals: IntervalRow[];
  spectrum: { percentile: number; valueUs: number }[];
  /** The measured latency histogram (µs), compressed base64 HdrHistogram encoding. */
  histogram: string;
  failovers: FailoverMark[];
  /** The first ok of each epoch of each shard's pair seen in replies, seconds from the start. */
  epochs: { shard: number; epoch: number; tS: number }[];
  audit: AuditResult | null;
  drill: { kills: DrillKill[]; worstGapMs: number | null; medianGapMs: number | null } | null;
}

export function fmtUs(us: number): string {
  if (us >= 1_000_000) return `${(us / 1_000_000).toFixed(2)} s`;
  if (us >= 10_000) return `${(us / 1000).toFixed(1)} ms`;
  if (us >= 1000) return `${(us / 1000).toFixed(2)} ms`;
  return `${Math.round(us)} µs`;
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
