/**
 * `register`: half `set` of a fresh value, half `cas` from the value this driver last
 * saw, so compare-and-set both succeeds and (under contention) is REJECTED.
 */
import type { UpdateInput, UpdateResult } from '@txtest/client';
import type { Rng } from '../rng';
import { indexPicker } from '../zipf';
import { assetNames, type Workload } from './workload';

export class RegisterWorkload implements Workload {
  private readonly pick: () => number;
  private readonly name: (i: number) => string;
  /** The last value this driver saw committed, per register (null: the initial value). */
  private readonly seen = new Map<string, unknown>();

  constructor(
    registers: number,
    zipfS: number,
    prefix: string,
    private readonly rng: Rng,
  ) {
    this.pick = indexPicker(registers, zipfS, rng);
    this.name = assetNames(prefix, 'reg', registers);
  }

  next(id: string): UpdateInput {
    const asset = this.name(this.pick());
    const value = this.rng.int(1_000_000);
    if (this.rng.next() < 0.5) return { id, asset, op: 'set', args: { value }, model: 'register' };
    return { id, asset, op: 'cas', args: { expect: this.seen.get(asset) ?? null, value }, model: 'register' };
  }

  onResult(u: UpdateInput, r: UpdateResult): void {
    if (r.ok) this.seen.set(u.asset, (r.result as { value: unknown }).value);
  }
}
