/**
 * Zipf-distributed ranks by rejection-inversion (Hörmann and Derflinger, 1996, as in
 * Apache Commons' RejectionInversionZipfSampler): P(k) proportional to 1 / k^s for
 * k = 1..n, O(1) memory and time per draw, so a million hot-and-cold assets cost no
 * table. Rank 1 is the hottest.
 */
import type { Rng } from './rng';

function helper1(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x));
}

function helper2(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + (x / 3) * (1 + 0.25 * x));
}

export class Zipf {
  private readonly hIntegralX1: number;
  private readonly hIntegralN: number;
  private readonly sv: number;

  constructor(
    private readonly n: number,
    private readonly s: number,
  ) {
    if (!(n >= 1) || !(s > 0)) throw new Error(`Zipf needs n >= 1 and s > 0 (got n=${n}, s=${s})`);
    this.hIntegralX1 = this.hIntegral(1.5) - 1;
    this.hIntegralN = this.hIntegral(n + 0.5);
    this.sv = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
  }

  /** A rank in [1, n]. */
  sample(rng: Rng): number {
    for (;;) {
      const u = this.hIntegralN + rng.next() * (this.hIntegralX1 - this.hIntegralN);
      const x = this.hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > this.n) k = this.n;
      if (k - x <= this.sv || u >= this.hIntegral(k + 0.5) - this.h(k)) return k;
    }
  }

  private h(x: number): number {
    return Math.exp(-this.s * Math.log(x));
  }

  private hIntegral(x: number): number {
    const logX = Math.log(x);
    return helper2((1 - this.s) * logX) * logX;
  }

  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.s);
    if (t < -1) t = -1;
    return Math.exp(helper1(t) * x);
  }
}

/** Picks an index in [0, n): uniform when s is 0, else Zipf with exponent s. */
export function indexPicker(n: number, s: number, rng: Rng): () => number {
  if (s === 0 || n === 1) return () => rng.int(n);
  const z = new Zipf(n, s);
  return () => z.sample(rng) - 1;
}
