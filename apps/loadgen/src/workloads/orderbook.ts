/**
 * `orderbook`: a plausible order flow over N instruments, one book each. Each book has
 * a mid price that random-walks; most orders are GTC limits a few ticks behind the mid
 * on their own side (they rest), some are aggressive limits through the mid (they
 * trade), some are IOC (trade or vanish), and cancels remove this driver's own resting
 * orders, more often the more of them rest, so each book stays at a realistic depth.
 */
import type { UpdateInput, UpdateResult } from '@txtest/client';
import type { Rng } from '../rng';
import { indexPicker } from '../zipf';
import { assetNames, type Workload } from './workload';

const RESTING_TARGET = 64;
const RESTING_MAX = 1024;

interface Book {
  mid: number;
  /** This driver's orders that rested when last heard of (some may have traded since). */
  resting: string[];
}

export class OrderbookWorkload implements Workload {
  private readonly pick: () => number;
  private readonly name: (i: number) => string;
  private readonly books: Book[];
  private readonly bookOf = new Map<string, Book>();
  private orderCounter = 0;

  constructor(
    instruments: number,
    zipfS: number,
    prefix: string,
    private readonly tag: string,
    private readonly rng: Rng,
  ) {
    this.pick = indexPicker(instruments, zipfS, rng);
    this.name = assetNames(prefix, 'book', instruments);
    this.books = Array.from({ length: instruments }, (_, i) => {
      const b: Book = { mid: 10_000, resting: [] };
      this.bookOf.set(this.name(i), b);
      return b;
    });
  }

  next(id: string): UpdateInput {
    const i = this.pick();
    const asset = this.name(i);
    const book = this.books[i]!;
    const rng = this.rng;
    if (rng.next() < 0.1) book.mid = Math.max(100, book.mid + (rng.next() < 0.5 ? -1 : 1));
    const cancelP = 0.05 + 0.45 * Math.min(1, book.resting.length / RESTING_TARGET);
    const r = rng.next();
    if (r < cancelP && book.resting.length > 0) {
      const k = rng.int(book.resting.length);
      const orderId = book.resting[k]!;
      book.resting[k] = book.resting[book.resting.length - 1]!;
      book.resting.pop();
      return { id, asset, op: 'cancel', args: { orderId }, model: 'orderbook' };
    }
    const buy = rng.next() < 0.5;
    const orderId = `${this.tag}.${(this.orderCounter++).toString(36)}`;
    const r2 = rng.next();
    if (r2 < 0.1) {
      // IOC through the mid: takes what is there, the rest is dropped.
      const price = buy ? book.mid + rng.int(3) : Math.max(1, book.mid - rng.int(3));
      return { id, asset, op: 'place', args: { orderId, side: buy ? 'buy' : 'sell', price, qty: 1 + rng.int(20), tif: 'ioc' }, model: 'orderbook' };
    }
    // Passive GTC limits a geometric number of ticks behind the mid; one in six crosses it.
    const aggressive = r2 > 0.83;
    let ticks = 1;
    while (ticks < 50 && rng.next() < 0.6) ticks++;
    const offset = aggressive ? -rng.int(3) : ticks;
    const price = Math.max(1, buy ? book.mid - offset : book.mid + offset);
    return { id, asset, op: 'place', args: { orderId, side: buy ? 'buy' : 'sell', price, qty: 1 + rng.int(100) }, model: 'orderbook' };
  }

  onResult(u: UpdateInput, r: UpdateResult): void {
    if (!r.ok || u.op !== 'place') return;
    const status = (r.result as { status: string }).status;
    if (status !== 'resting' && status !== 'partial') return;
    const book = this.bookOf.get(u.asset)!;
    if (book.resting.length >= RESTING_MAX) book.resting.shift();
    book.resting.push((u.args as { orderId: string }).orderId);
  }
}
