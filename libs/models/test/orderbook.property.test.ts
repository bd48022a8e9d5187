/**
 * Property tests for the order book: random sequences of place/cancel, checked after
 * every op against invariants and against a deliberately naive reference book (a flat
 * list of orders with arrival numbers, re-sorted on every match).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { orderbookModel } from '../src/index';
import type { CancelResult, Level, OrderbookState, PlaceResult, Trade } from '../src/index';
import { deepFreeze } from './helpers';

const m = orderbookModel;

type Side = 'buy' | 'sell';
type PlaceArgs = { orderId: string; side: Side; price: number; qty: number; tif?: 'gtc' | 'ioc' };
type Op = { op: 'place'; args: PlaceArgs } | { op: 'cancel'; args: { orderId: string } };

// ---------------------------------------------------------------- reference book

type RefOrder = { orderId: string; side: Side; price: number; qty: number; seq: number };

class ReferenceBook {
  orders: RefOrder[] = [];
  private seq = 0;

  apply(op: Op): { ok: false } | { ok: true; result: PlaceResult | CancelResult } {
    return op.op === 'place' ? this.place(op.args) : this.cancel(op.args.orderId);
  }

  private place(a: PlaceArgs): { ok: false } | { ok: true; result: PlaceResult } {
    if (this.orders.some((o) => o.orderId === a.orderId)) return { ok: false };
    const isBuy = a.side === 'buy';
    const seq = this.seq++;
    const trades: Trade[] = [];
    let remaining = a.qty;
    for (;;) {
      const candidates = this.orders
        .filter((o) => o.side !== a.side && (isBuy ? o.price <= a.price : o.price >= a.price))
        .sort((x, y) => (x.price !== y.price ? (isBuy ? x.price - y.price : y.price - x.price) : x.seq - y.seq));
      const best = candidates[0];
      if (remaining === 0 || !best) break;
      const q = Math.min(best.qty, remaining);
      trades.push({
        buyOrderId: isBuy ? a.orderId : best.orderId,
        sellOrderId: isBuy ? best.orderId : a.orderId,
        price: best.price,
        qty: q,
      });
      remaining -= q;
      best.qty -= q;
      if (best.qty === 0) this.orders = this.orders.filter((o) => o !== best);
    }
    let status: PlaceResult['status'];
    if (remaining === 0) status = 'filled';
    else if (a.tif === 'ioc') status = 'cancelled';
    else {
      this.orders.push({ orderId: a.orderId, side: a.side, price: a.price, qty: remaining, seq });
      status = trades.length > 0 ? 'partial' : 'resting';
    }
    return { ok: true, result: { orderId: a.orderId, status, remainingQty: remaining, trades } };
  }

  private cancel(orderId: string): { ok: false } | { ok: true; result: CancelResult } {
    const o = this.orders.find((x) => x.orderId === orderId);
    if (!o) return { ok: false };
    this.orders = this.orders.filter((x) => x !== o);
    return { ok: true, result: { orderId, status: 'cancelled', remainingQty: o.qty } };
  }

  /** The same book in the model's representation. */
  toState(): OrderbookState {
    const side = (s: Side): Level[] => {
      const prices = [...new Set(this.orders.filter((o) => o.side === s).map((o) => o.price))];
      prices.sort((x, y) => (s === 'buy' ? y - x : x - y));
      return prices.map((price) => ({
        price,
        orders: this.orders
          .filter((o) => o.side === s && o.price === price)
          .sort((x, y) => x.seq - y.seq)
          .map((o) => ({ orderId: o.orderId, qty: o.qty })),
      }));
    };
    return { bids: side('buy'), asks: side('sell') };
  }
}

// ---------------------------------------------------------------- invariants

function restingQty(s: OrderbookState): number {
  let n = 0;
  for (const l of [...s.bids, ...s.asks]) for (const o of l.orders) n += o.qty;
  return n;
}

/** (d) sorted best-first, no empty levels, no zero-qty orders, unique ids; (a) not crossed. */
function checkShape(s: OrderbookState): void {
  expect(Object.keys(s)).toEqual(['bids', 'asks']);
  const ids = new Set<string>();
  for (const [levels, isBid] of [
    [s.bids, true],
    [s.asks, false],
  ] as const) {
    for (let i = 0; i < levels.length; i++) {
      const l = levels[i];
      expect(Number.isSafeInteger(l.price) && l.price > 0).toBe(true);
      if (i > 0) expect(isBid ? levels[i - 1].price > l.price : levels[i - 1].price < l.price).toBe(true);
      expect(l.orders.length).toBeGreaterThan(0);
      for (const o of l.orders) {
        expect(Number.isSafeInteger(o.qty) && o.qty > 0).toBe(true);
        expect(ids.has(o.orderId)).toBe(false);
        ids.add(o.orderId);
      }
    }
  }
  if (s.bids.length > 0 && s.asks.length > 0) expect(s.bids[0].price).toBeLessThan(s.asks[0].price);
}

/** Plain data only, so MessagePack and JSON encode the same thing. */
function checkPlain(v: unknown): void {
  if (Array.isArray(v)) v.forEach(checkPlain);
  else if (v !== null && typeof v === 'object') {
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    Object.values(v).forEach(checkPlain);
  } else expect(['string', 'number']).toContain(typeof v);
}

/**
 * (c) price-time priority, checked directly against the book before the op: the trades
 * must consume, in order, a prefix of the opposite side's orders ranked by price
 * (best first) and then by arrival number, each at that order's price.
 */
function checkPriority(before: OrderbookState, a: PlaceArgs, r: PlaceResult, arrival: Map<string, number>): void {
  const isBuy = a.side === 'buy';
  const opposite = (isBuy ? before.asks : before.bids)
    .flatMap((l) => l.orders.map((o) => ({ ...o, price: l.price, seq: arrival.get(o.orderId)! })))
    .sort((x, y) => (x.price !== y.price ? (isBuy ? x.price - y.price : y.price - x.price) : x.seq - y.seq));
  const acceptable = (p: number) => (isBuy ? p <= a.price : p >= a.price);
  r.trades.forEach((t, k) => {
    const resting = opposite[k];
    expect(resting).toBeDefined();
    expect(isBuy ? t.sellOrderId : t.buyOrderId).toBe(resting.orderId);
    expect(isBuy ? t.buyOrderId : t.sellOrderId).toBe(a.orderId);
    expect(t.price).toBe(resting.price);
    expect(acceptable(t.price)).toBe(true);
    if (k < r.trades.length - 1) expect(t.qty).toBe(resting.qty);
    else expect(t.qty).toBe(Math.min(resting.qty, a.qty - r.trades.slice(0, k).reduce((n, x) => n + x.qty, 0)));
  });
  expect(r.trades.reduce((n, t) => n + t.qty, 0) + r.remainingQty).toBe(a.qty);
  if (r.remainingQty > 0) {
    // Nothing tradeable may have been left behind.
    const next = opposite[r.trades.length];
    if (next) expect(acceptable(next.price)).toBe(false);
  }
}

/** (f) levels whose content did not change are reused, not copied. */
function checkSharing(before: OrderbookState, after: OrderbookState): void {
  for (const side of ['bids', 'asks'] as const) {
    const old = new Map(before[side].map((l) => [l.price, l]));
    for (const l of after[side]) {
      const prev = old.get(l.price);
      if (prev && JSON.stringify(prev) === JSON.stringify(l)) expect(l).toBe(prev);
    }
  }
}

// ---------------------------------------------------------------- generators

function opArb(idPool: number, priceLo: number, priceHi: number): fc.Arbitrary<Op> {
  const orderId = fc.integer({ min: 0, max: idPool - 1 }).map((i) => `o${i}`);
  const place = fc
    .record(
      {
        orderId,
        side: fc.constantFrom<Side>('buy', 'sell'),
        price: fc.integer({ min: priceLo, max: priceHi }),
        qty: fc.integer({ min: 1, max: 10 }),
        tif: fc.constantFrom<'gtc' | 'ioc'>('gtc', 'ioc'),
      },
      { requiredKeys: ['orderId', 'side', 'price', 'qty'] },
    )
    .map((args): Op => ({ op: 'place', args }));
  const cancel = orderId.map((id): Op => ({ op: 'cancel', args: { orderId: id } }));
  return fc.oneof({ arbitrary: place, weight: 4 }, { arbitrary: cancel, weight: 1 });
}

/** Runs the ops through the model and the reference, checking everything after every op. */
function runChecked(ops: Op[]): OrderbookState {
  const ref = new ReferenceBook();
  const arrival = new Map<string, number>();
  let seq = 0;
  let state = m.initial();
  let placed = 0;
  let traded = 0;
  let cancelled = 0;
  for (const op of ops) {
    const args = op.args as Record<string, unknown>;
    expect(m.validate(op.op, args)).toBeNull();
    const snapshot = structuredClone(state);
    const out = m.apply(deepFreeze(state), op.op, args); // (e) frozen input: any mutation throws
    expect(state).toEqual(snapshot); // (e) and nothing changed it some other way
    const expected = ref.apply(op);
    expect(out.ok).toBe(expected.ok);
    if (!out.ok) {
      expect(out.message.length).toBeGreaterThan(0);
      continue;
    }
    if (!expected.ok) throw new Error('unreachable');
    expect(out.result).toEqual(expected.result);
    if (op.op === 'place') {
      const r = out.result as PlaceResult;
      checkPriority(state, op.args, r, arrival);
      arrival.set(op.args.orderId, seq++);
      placed += op.args.qty;
      for (const t of r.trades) traded += t.qty;
      if (r.status === 'cancelled') cancelled += r.remainingQty;
    } else {
      cancelled += (out.result as CancelResult).remainingQty;
    }
    checkSharing(state, out.state);
    state = out.state;
    checkShape(state);
    checkPlain(state);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
    expect(state).toEqual(ref.toState());
    // (b) every placed unit is resting, traded (once on each side) or cancelled.
    expect(placed).toBe(restingQty(state) + 2 * traded + cancelled);
  }
  return state;
}

function runPlain(ops: Op[]): { state: OrderbookState; results: unknown[] } {
  let state = m.initial();
  const results: unknown[] = [];
  for (const op of ops) {
    const out = m.apply(state, op.op, op.args as Record<string, unknown>);
    results.push(out.ok ? out.result : out.message);
    if (out.ok) state = out.state;
  }
  return { state, results };
}

// ---------------------------------------------------------------- properties

describe('orderbook under random place/cancel sequences', () => {
  it('matches the reference book and keeps every invariant, with frequent id collisions (12 ids, prices 98..102)', () => {
    fc.assert(
      fc.property(fc.array(opArb(12, 98, 102), { maxLength: 150 }), (ops) => {
        runChecked(ops);
      }),
      { numRuns: 300 },
    );
  });

  it('matches the reference book and keeps every invariant on deeper books (200 ids, prices 90..110)', () => {
    fc.assert(
      fc.property(fc.array(opArb(200, 90, 110), { minLength: 50, maxLength: 400 }), (ops) => {
        runChecked(ops);
      }),
      { numRuns: 60 },
    );
  });

  it('is deterministic: the same ops give byte-identical states and results', () => {
    fc.assert(
      fc.property(fc.array(opArb(30, 95, 105), { maxLength: 200 }), (ops) => {
        const a = runPlain(ops);
        const b = runPlain(structuredClone(ops));
        expect(JSON.stringify(a.state)).toBe(JSON.stringify(b.state));
        expect(JSON.stringify(a.results)).toBe(JSON.stringify(b.results));
        expect(b.state).toEqual(a.state);
      }),
      { numRuns: 200 },
    );
  });

  it('a state that went through a JSON round trip (snapshot restore) behaves like the original', () => {
    fc.assert(
      fc.property(fc.array(opArb(30, 95, 105), { maxLength: 100 }), fc.array(opArb(30, 95, 105), { maxLength: 100 }), (first, second) => {
        const mid = runPlain(first).state;
        const restored = JSON.parse(JSON.stringify(mid)) as OrderbookState;
        let x = mid;
        let y = restored;
        for (const op of second) {
          const ox = m.apply(x, op.op, op.args as Record<string, unknown>);
          const oy = m.apply(y, op.op, op.args as Record<string, unknown>);
          expect(JSON.stringify(oy)).toBe(JSON.stringify(ox));
          if (ox.ok && oy.ok) {
            x = ox.state;
            y = oy.state;
          }
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('orderbook with thousands of resting orders', () => {
  it('keeps working and shares untouched levels when one level changes', () => {
    let state = m.initial();
    for (let i = 0; i < 5000; i++) {
      const side: Side = i % 2 === 0 ? 'buy' : 'sell';
      const price = side === 'buy' ? 1000 - (i % 50) : 1001 + (i % 50);
      const out = m.apply(state, 'place', { orderId: `o${i}`, side, price, qty: 1 + (i % 7) });
      if (!out.ok) throw new Error(out.message);
      state = out.state;
    }
    checkShape(state);
    const before = state;
    const out = m.apply(before, 'place', { orderId: 'big', side: 'buy', price: before.asks[0].price, qty: 3 });
    if (!out.ok) throw new Error(out.message);
    expect((out.result as PlaceResult).status).toBe('filled');
    expect(out.state.bids).toBe(before.bids);
    for (let i = 1; i < before.asks.length; i++) expect(out.state.asks[i]).toBe(before.asks[i]);
    const c = m.apply(out.state, 'cancel', { orderId: 'o2' });
    expect(c.ok).toBe(true);
    if (c.ok) expect(c.state.asks).toBe(out.state.asks);
  });
});
