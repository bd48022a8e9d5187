/** The asset choice: Zipf ranks are skewed as the exponent says, and reproducible from the seed. */
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/rng';
import { indexPicker, Zipf } from '../src/zipf';

describe('zipf', () => {
  it('rank k is drawn about (1/k)^s as often as rank 1, and never outside 1..n', () => {
    const rng = new Rng(42);
    const z = new Zipf(1000, 1.2);
    const counts = new Array<number>(1001).fill(0);
    let outside = 0;
    for (let i = 0; i < 200_000; i++) {
      const k = z.sample(rng);
      if (k >= 1 && k <= 1000) counts[k]!++;
      else outside++;
    }
    expect(outside).toBe(0);
    expect(counts[2]! / counts[1]!).toBeCloseTo(2 ** -1.2, 1);
    expect(counts[10]! / counts[1]!).toBeCloseTo(10 ** -1.2, 1);
  });

  it('uniform when s is 0; the same seed gives the same sequence', () => {
    const a = indexPicker(10, 0, new Rng(7));
    const b = indexPicker(10, 0, new Rng(7));
    const seq = Array.from({ length: 50 }, () => a());
    expect(Array.from({ length: 50 }, () => b())).toEqual(seq);
    expect(new Set(seq).size).toBeGreaterThan(5);
  });
});
