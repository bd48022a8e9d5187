/**
 * Latency histograms: HdrHistogram (hdr-histogram-js, Int32 counts, plain JS: its
 * WebAssembly flavour costs a boundary crossing per recorded value, slower for single
 * records). Values are microseconds, 1 µs to 1 hour at 3 significant digits. Worker
 * threads ship interval histograms to the main thread in the standard compressed
 * base64 encoding, so a report can be re-read by any HdrHistogram tool.
 */
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

export const LATENCY_US_MAX = 3_600_000_000;

export function newHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: LATENCY_US_MAX,
    numberOfSignificantValueDigits: 3,
  });
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(b64: string): Histogram {
  return hdr.decodeFromCompressedBase64(b64, 32, false);
}

export interface LatencySummary {
  count: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  meanUs: number;
}

export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, p50Us: 0, p90Us: 0, p99Us: 0, p999Us: 0, maxUs: 0, meanUs: 0 };
  return {
    count: h.totalCount,
    p50Us: h.getValueAtPercentile(50),
    p90Us: h.getValueAtPercentile(90),
    p99Us: h.getValueAtPercentile(99),
    p999Us: h.getValueAtPercentile(99.9),
    maxUs: h.maxValue,
    meanUs: Math.round(h.mean),
  };
}

/**
 * The percentile spectrum as HdrHistogram plots it: the x axis is 1/(1-p) on a log
 * scale (50%, 90%, 99%, 99.9%, ...), sampled in 20 steps per decade up to the
 * resolution the sample count supports, then the maximum.
 */
export function percentileSpectrum(h: Histogram): { percentile: number; valueUs: number }[] {
  const out: { percentile: number; valueUs: number }[] = [];
  if (h.totalCount === 0) return out;
  const decades = Math.max(1, Math.log10(h.totalCount));
  for (let x = 0; x <= decades + 1e-9; x += 0.05) {
    const p = 100 * (1 - 10 ** -x);
    out.push({ percentile: Number(p.toFixed(6)), valueUs: h.getValueAtPercentile(p) });
  }
  out.push({ percentile: 100, valueUs: h.maxValue });
  return out;
}
