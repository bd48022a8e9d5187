/**
 * A workload decides what the next update is and learns from each outcome (the order
 * book flow needs to know which of its orders rest). One instance per client driver,
 * each with its own seeded Rng and its own id space, so drivers never coordinate.
 */
import type { UpdateInput, UpdateResult } from '@txtest/client';
import type { WorkloadName } from '../args';
import { Rng } from '../rng';
import { AccountWorkload } from './account';
import { OrderbookWorkload } from './orderbook';
import { RegisterWorkload } from './register';

export interface Workload {
  /** The next update; `id` is the one all its retries will use. */
  next(id: string): UpdateInput;
  /** Every committed outcome (ok or REJECTED) of an update this workload made. */
  onResult(u: UpdateInput, r: UpdateResult): void;
}

export interface WorkloadOptions {
  name: WorkloadName;
  assets: number;
  instruments: number;
  zipfS: number;
  assetPrefix: string;
  seed: number;
  /** Distinguishes the order ids of different drivers (orderbook). */
  tag: string;
}

export function makeWorkload(o: WorkloadOptions): Workload {
  const rng = new Rng(o.seed);
  switch (o.name) {
    case 'account':
      return new AccountWorkload(o.assets, o.zipfS, o.assetPrefix, rng);
    case 'orderbook':
      return new OrderbookWorkload(o.instruments, o.zipfS, o.assetPrefix, o.tag, rng);
    case 'register':
      return new RegisterWorkload(o.assets, o.zipfS, o.assetPrefix, rng);
  }
}

/** Asset ids by index; precomputed up to a million, built on the fly beyond. */
export function assetNames(prefix: string, kind: string, n: number): (i: number) => string {
  if (n > 1_000_000) return (i) => `${prefix}${kind}-${i}`;
  const names = Array.from({ length: n }, (_, i) => `${prefix}${kind}-${i}`);
  return (i) => names[i]!;
}
