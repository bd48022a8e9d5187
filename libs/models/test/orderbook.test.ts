import { describe, expect, it } from 'vitest';
import { orderbookModel } from '../src/index';
import type { CancelResult, OrderbookState, PlaceResult } from '../src/index';
import { applyOk, applyRejected } from './helpers';

const m = orderbookModel;

type PlaceArgs = { orderId: string; side: 'buy' | 'sell'; price: number; qty: number; tif?: 'gtc' | 'ioc' };

function place(state: OrderbookState, args: PlaceArgs) {
  const out = applyOk(m, state, 'place', args);
  return { state: out.state, result: out.result as PlaceResult };
}

function book(...orders: PlaceArgs[]): OrderbookState {
  let s = m.initial();
  for (const o of orders) s = place(s, o).state;
  return s;
}

const buy = (orderId: string, price: number, qty: number, tif?: 'gtc' | 'ioc'): PlaceArgs => ({ orderId, side: 'buy', price, qty, ...(tif ? { tif } : {}) });
const sell = (orderId: string, price: number, qty: number, tif?: 'gtc' | 'ioc'): PlaceArgs => ({ orderId, side: 'sell', price, qty, ...(tif ? { tif } : {}) });

describe('orderbook model', () => {
  it('is registered under the name "orderbook" and starts empty', () => {
    expect(m.name).toBe('orderbook');
    expect(m.initial()).toEqual({ bids: [], asks: [] });
  });

  describe('placing without a match', () => {
    it('rests a buy on the bid side and reports "resting"', () => {
      const { state, result } = place(m.initial(), buy('b1', 100, 5));
      expect(state).toEqual({ bids: [{ price: 100, orders: [{ orderId: 'b1', qty: 5 }] }], asks: [] });
      expect(result).toEqual({ orderId: 'b1', status: 'resting', remainingQty: 5, trades: [] });
    });

    it('keeps bids best (highest) first and asks best (lowest) first', () => {
      const s = book(buy('b1', 99, 1), buy('b2', 101, 1), buy('b3', 100, 1), sell('s1', 110, 1), sell('s2', 105, 1), sell('s3', 107, 1));
      expect(s.bids.map((l) => l.price)).toEqual([101, 100, 99]);
      expect(s.asks.map((l) => l.price)).toEqual([105, 107, 110]);
    });

    it('queues orders at one price in arrival order', () => {
      const s = book(sell('s1', 100, 1), sell('s2', 100, 2), sell('s3', 100, 3));
      expect(s.asks).toEqual([
        {
          price: 100,
          orders: [
            { orderId: 's1', qty: 1 },
            { orderId: 's2', qty: 2 },
            { orderId: 's3', qty: 3 },
          ],
        },
      ]);
    });

    it('defaults tif to gtc', () => {
      expect(place(m.initial(), buy('b1', 100, 5)).result.status).toBe('resting');
      expect(place(m.initial(), buy('b1', 100, 5, 'gtc')).result.status).toBe('resting');
    });

    it('drops an ioc order that finds nothing to trade, leaving the book as it was', () => {
      const before = book(sell('s1', 101, 5));
      const { state, result } = place(before, buy('b1', 100, 5, 'ioc'));
      expect(result).toEqual({ orderId: 'b1', status: 'cancelled', remainingQty: 5, trades: [] });
      expect(state).toEqual(before);
      expect(state).not.toBe(before);
    });
  });

  describe('matching', () => {
    it('fills a buy completely against one resting sell at the resting price', () => {
      const { state, result } = place(book(sell('s1', 100, 5)), buy('b1', 105, 5));
      expect(result).toEqual({
        orderId: 'b1',
        status: 'filled',
        remainingQty: 0,
        trades: [{ buyOrderId: 'b1', sellOrderId: 's1', price: 100, qty: 5 }],
      });
      expect(state).toEqual({ bids: [], asks: [] });
    });

    it('fills a sell against bids at the resting (higher) price', () => {
      const { result } = place(book(buy('b1', 103, 2)), sell('s1', 100, 2));
      expect(result.trades).toEqual([{ buyOrderId: 'b1', sellOrderId: 's1', price: 103, qty: 2 }]);
    });

    it('takes the best price first, then the oldest order within a price', () => {
      const start = book(sell('s1', 102, 1), sell('s2', 101, 1), sell('s3', 101, 1), sell('s4', 100, 1));
      const { result, state } = place(start, buy('b1', 102, 3));
      expect(result.trades.map((t) => [t.sellOrderId, t.price])).toEqual([
        ['s4', 100],
        ['s2', 101],
        ['s3', 101],
      ]);
      expect(state.asks).toEqual([{ price: 102, orders: [{ orderId: 's1', qty: 1 }] }]);
    });

    it('does not trade with orders beyond the limit price', () => {
      const { result, state } = place(book(sell('s1', 100, 1), sell('s2', 101, 5)), buy('b1', 100, 3));
      expect(result).toMatchObject({ status: 'partial', remainingQty: 2 });
      expect(result.trades).toEqual([{ buyOrderId: 'b1', sellOrderId: 's1', price: 100, qty: 1 }]);
      expect(state).toEqual({
        bids: [{ price: 100, orders: [{ orderId: 'b1', qty: 2 }] }],
        asks: [{ price: 101, orders: [{ orderId: 's2', qty: 5 }] }],
      });
    });

    it('leaves a partly filled resting order at the front of its queue with the rest', () => {
      const { result, state } = place(book(sell('s1', 100, 5), sell('s2', 100, 5)), buy('b1', 100, 3));
      expect(result).toMatchObject({ status: 'filled', remainingQty: 0 });
      expect(state.asks).toEqual([
        {
          price: 100,
          orders: [
            { orderId: 's1', qty: 2 },
            { orderId: 's2', qty: 5 },
          ],
        },
      ]);
    });

    it('a gtc order that trades part rests the remainder and reports "partial" with the trades', () => {
      const { result, state } = place(book(buy('b1', 100, 2)), sell('s1', 99, 5));
      expect(result).toEqual({
        orderId: 's1',
        status: 'partial',
        remainingQty: 3,
        trades: [{ buyOrderId: 'b1', sellOrderId: 's1', price: 100, qty: 2 }],
      });
      expect(state).toEqual({ bids: [], asks: [{ price: 99, orders: [{ orderId: 's1', qty: 3 }] }] });
    });

    it('an ioc order that trades part drops the remainder and reports "cancelled" with the trades', () => {
      const { result, state } = place(book(buy('b1', 100, 2), buy('b0', 98, 1)), sell('s1', 99, 5, 'ioc'));
      expect(result).toEqual({
        orderId: 's1',
        status: 'cancelled',
        remainingQty: 3,
        trades: [{ buyOrderId: 'b1', sellOrderId: 's1', price: 100, qty: 2 }],
      });
      expect(state).toEqual({ bids: [{ price: 98, orders: [{ orderId: 'b0', qty: 1 }] }], asks: [] });
    });

    it('an ioc order that fills completely reports "filled"', () => {
      expect(place(book(sell('s1', 100, 4)), buy('b1', 100, 4, 'ioc')).result).toMatchObject({ status: 'filled', remainingQty: 0 });
    });

    it('sweeps several levels and rests the remainder at its own limit', () => {
      const { result, state } = place(book(sell('s1', 100, 1), sell('s2', 101, 1), sell('s3', 103, 1)), buy('b1', 102, 5));
      expect(result.trades.map((t) => t.sellOrderId)).toEqual(['s1', 's2']);
      expect(state).toEqual({
        bids: [{ price: 102, orders: [{ orderId: 'b1', qty: 3 }] }],
        asks: [{ price: 103, orders: [{ orderId: 's3', qty: 1 }] }],
      });
    });

    it('lets an id be reused once its order no longer rests', () => {
      const s = place(book(sell('s1', 100, 1)), buy('b1', 100, 1)).state;
      expect(place(s, sell('s1', 100, 1)).result.status).toBe('resting');
    });
  });

  describe('refusals', () => {
    it('rejects placing an id that is resting on the same side', () => {
      expect(applyRejected(m, book(buy('x', 100, 1)), 'place', buy('x', 99, 1))).toMatch(/"x" is already resting/);
    });

    it('rejects placing an id that is resting on the other side, even when it would trade with it', () => {
      applyRejected(m, book(sell('x', 100, 1)), 'place', buy('x', 100, 1));
    });

    it('rejects cancelling an unknown id', () => {
      expect(applyRejected(m, book(buy('b1', 100, 1)), 'cancel', { orderId: 'zz' })).toMatch(/"zz" is not resting/);
    });

    it('rejects cancelling an order that has been filled', () => {
      const s = place(book(sell('s1', 100, 1)), buy('b1', 100, 1)).state;
      applyRejected(m, s, 'cancel', { orderId: 's1' });
    });

    it('rejects cancelling an ioc order that was dropped', () => {
      const s = place(m.initial(), buy('b1', 100, 1, 'ioc')).state;
      applyRejected(m, s, 'cancel', { orderId: 'b1' });
    });
  });

  describe('cancel', () => {
    it('removes a resting order, keeps the rest of its queue in order, and reports its quantity', () => {
      const start = book(buy('b1', 100, 1), buy('b2', 100, 2), buy('b3', 100, 3));
      const out = applyOk(m, start, 'cancel', { orderId: 'b2' });
      expect(out.result as CancelResult).toEqual({ orderId: 'b2', status: 'cancelled', remainingQty: 2 });
      expect(out.state.bids).toEqual([
        {
          price: 100,
          orders: [
            { orderId: 'b1', qty: 1 },
            { orderId: 'b3', qty: 3 },
          ],
        },
      ]);
    });

    it('removes the level when its last order is cancelled', () => {
      const out = applyOk(m, book(sell('s1', 100, 1), sell('s2', 101, 1)), 'cancel', { orderId: 's1' });
      expect(out.state).toEqual({ bids: [], asks: [{ price: 101, orders: [{ orderId: 's2', qty: 1 }] }] });
    });

    it('reports what was left of a partly filled order', () => {
      const s = place(book(sell('s1', 100, 5)), buy('b1', 100, 2)).state;
      expect(applyOk(m, s, 'cancel', { orderId: 's1' }).result).toEqual({ orderId: 's1', status: 'cancelled', remainingQty: 3 });
    });
  });

  describe('structural sharing', () => {
    it('reuses untouched levels and the untouched side by reference', () => {
      const start = book(buy('b1', 99, 1), buy('b2', 98, 1), sell('s1', 101, 1), sell('s2', 102, 1));
      const { state } = place(start, buy('b3', 99, 1));
      expect(state.asks).toBe(start.asks);
      expect(state.bids[1]).toBe(start.bids[1]);
      expect(state.bids[0]).not.toBe(start.bids[0]);
    });

    it('reuses the levels behind a partly consumed level', () => {
      const start = book(sell('s1', 100, 5), sell('s2', 101, 1), sell('s3', 102, 1));
      const { state } = place(start, buy('b1', 100, 2));
      expect(state.asks[1]).toBe(start.asks[1]);
      expect(state.asks[2]).toBe(start.asks[2]);
      expect(state.bids).toBe(start.bids);
    });
  });

  describe('validate', () => {
    const ok: PlaceArgs = buy('b1', 100, 1);

    it('accepts a well-formed place and cancel', () => {
      expect(m.validate('place', { ...ok })).toBeNull();
      expect(m.validate('place', { ...ok, tif: 'ioc' })).toBeNull();
      expect(m.validate('place', { ...ok, orderId: 'x'.repeat(128) })).toBeNull();
      expect(m.validate('cancel', { orderId: 'b1' })).toBeNull();
    });

    it('refuses an unknown op', () => {
      expect(m.validate('amend', { ...ok })).toEqual({ code: 'UNKNOWN_OP', message: 'model "orderbook" has no op "amend"' });
    });

    it.each([
      ['no args', undefined, 'orderId'],
      ['an empty orderId', { ...ok, orderId: '' }, 'orderId'],
      ['an orderId over 128 characters', { ...ok, orderId: 'x'.repeat(129) }, 'orderId'],
      ['a numeric orderId', { ...ok, orderId: 7 }, 'orderId'],
      ['a bad side', { ...ok, side: 'BUY' }, 'side'],
      ['a missing side', { orderId: 'a', price: 1, qty: 1 }, 'side'],
      ['a zero price', { ...ok, price: 0 }, 'price'],
      ['a fractional price', { ...ok, price: 1.25 }, 'price'],
      ['a string price', { ...ok, price: '100' }, 'price'],
      ['a negative qty', { ...ok, qty: -1 }, 'qty'],
      ['an unsafe qty', { ...ok, qty: 2 ** 60 }, 'qty'],
      ['a bad tif', { ...ok, tif: 'fok' }, 'tif'],
      ['a null tif', { ...ok, tif: null }, 'tif'],
    ])('refuses a place with %s, naming args.%s', (_name, args, field) => {
      const p = m.validate('place', args as Record<string, unknown> | undefined);
      expect(p?.code).toBe('BAD_ARGS');
      expect(p?.message).toMatch(new RegExp(`^args\\.${field} must be `));
    });

    it('spells out the rule for prices', () => {
      expect(m.validate('place', { ...ok, price: -3 })?.message).toBe('args.price must be a positive safe integer');
    });

    it('refuses a cancel without a valid orderId', () => {
      expect(m.validate('cancel', undefined)?.message).toMatch(/^args\.orderId must be/);
      expect(m.validate('cancel', { orderId: '' })?.code).toBe('BAD_ARGS');
    });

    it('apply refuses unvalidated input rather than corrupting the book', () => {
      expect(m.apply(m.initial(), 'place', { ...ok, qty: '5' }).ok).toBe(false);
      expect(m.apply(m.initial(), 'amend', { ...ok }).ok).toBe(false);
    });
  });
});
