/**
 * `account`: credits and debits over N accounts, uniform or Zipf. Four in five updates
 * credit 1..100 units; one in five debits 1..100, which the model REJECTS when the
 * balance is short (a business refusal is processed, logged and replicated too).
 */
import type { UpdateInput, UpdateResult } from '@txtest/client';
import type { Rng } from '../rng';
import { indexPicker } from '../zipf';
import { assetNames, type Workload } from './workload';

export class AccountWorkload implements Workload {
  private readonly pick: () => number;
  private readonly name: (i: number) => string;

  constructor(
    assets: number,
    zipfS: number,
    prefix: string,
    private readonly rng: Rng,
  ) {
    this.pick = indexPicker(assets, zipfS, rng);
    this.name = assetNames(prefix, 'acct', assets);
  }

  next(id: string): UpdateInput {
    const debit = this.rng.next() < 0.2;
    return { id, asset: this.name(this.pick()), op: debit ? 'debit' : 'credit', args: { amount: 1 + this.rng.int(100) }, model: 'account' };
  }

  onResult(_u: UpdateInput, _r: UpdateResult): void {}
}
