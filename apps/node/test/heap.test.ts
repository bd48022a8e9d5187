/**
 * The collection on demand frees what nothing references (the growth setting's effect
 * is a benchmark figure: docs/BENCHMARKS.md).
 */
import { describe, expect, it } from 'vitest';
import { collectGarbage } from '../src/heap';

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
