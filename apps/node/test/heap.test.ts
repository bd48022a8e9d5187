/**
 * The collection on demand frees what nothing references (the growth setting's effect
 * is a benchmark figure: docs/BENCHMARKS.md).
 */
import { describe, expect, it } from 'vitest';
import { collectGarbage, HeapGrowth } from '../src/heap';

describe('heap', () => {
  it('collectGarbage frees a large unreferenced structure at once', () => {
    // Built and dropped inside a call: nothing references it once the call returns.
    const built = (() => Array.from({ length: 300_000 }, (_, i) => ({ i, s: `item-${i}` })).length)();
    expect(built).toBe(300_000);
    const r = collectGarbage();
    // 300,000 small objects and strings are well over 10 MiB.
    expect(r.heapBeforeMiB - r.heapAfterMiB).toBeGreaterThan(10);
    expect(r.ms).toBeGreaterThanOrEqual(0);
  });
});

describe('HeapGrowth', () => {
  it('caps the growth from the threshold up, lifts it below half of it, and never with 0', () => {
    const g = new HeapGrowth(50, 100);
    g.check(99);
    expect(g.isCapped).toBe(false);
    g.check(100);
    expect(g.isCapped).toBe(true);
    // Between half and the threshold it stays as it is (no flapping around one value).
    g.check(60);
    expect(g.isCapped).toBe(true);
    g.check(49);
    expect(g.isCapped).toBe(false);
    g.check(80);
    expect(g.isCapped).toBe(false);
    const off = new HeapGrowth(0, 100);
    off.check(1_000);
    expect(off.isCapped).toBe(false);
  });
});
