/**
 * `orderbook`: one instrument's limit order book with price-time priority.
 *
 * Representation: two arrays of price levels, best first (bids by descending price, asks
 * by ascending price); each level holds its resting orders oldest first. Time priority
 * is therefore just the position in a level, so no sequence numbers or clocks are
 * stored, and the state stays a plain JSON value that MessagePack and JSON agree on.
 *
 * Updates share structure with the previous state: untouched levels (and their order
 * arrays) are reused by reference, and only the levels an update touches plus the two
 * level arrays are copied. That is safe because states are never mutated.
 *
 * There is no orderId index. An index that is a plain object would have to be copied
 * whole on every update (worse than the scans below), and the scans are allocation-free
 * reads over at most the resting orders.
 */
import { NO_ARGS, badArgs, isPositiveSafeInt, unknownOp } from './checks';
import type { ApplyOutcome, ArgsProblem, Model } from './model';

export type Side = 'buy' | 'sell';
export type TimeInForce = 'gtc' | 'ioc';

export type RestingOrder = { readonly orderId: string; readonly qty: number };
export type Level = { readonly price: number; readonly orders: readonly RestingOrder[] };
export type OrderbookState = { readonly bids: readonly Level[]; readonly asks: readonly Level[] };

export type Trade = {
  readonly buyOrderId: string;
  readonly sellOrderId: string;
  /** Always the resting order's price. */
  readonly price: number;
  readonly qty: number;
};

export type PlaceStatus = 'filled' | 'partial' | 'resting' | 'cancelled';

export type PlaceResult = {
  readonly orderId: string;
  readonly status: PlaceStatus;
  /** Quantity not traded: resting for "resting"/"partial", dropped for "cancelled", 0 for "filled". */
  readonly remainingQty: number;
  readonly trades: readonly Trade[];
};

export type CancelResult = {
  readonly orderId: string;
  readonly status: 'cancelled';
  /** The quantity that was still resting and is now removed. */
  readonly remainingQty: number;
};

export const MAX_ORDER_ID_LENGTH = 128;

const NAME = 'orderbook';

function isOrderId(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= MAX_ORDER_ID_LENGTH;
}

const ORDER_ID_PROBLEM = `args.orderId must be a string of 1 to ${MAX_ORDER_ID_LENGTH} characters`;

function validate(op: string, args: Record<string, unknown> | undefined): ArgsProblem | null {
  const a = args ?? NO_ARGS;
  switch (op) {
    case 'place': {
      if (!isOrderId(a.orderId)) return badArgs(ORDER_ID_PROBLEM);
      if (a.side !== 'buy' && a.side !== 'sell') return badArgs('args.side must be "buy" or "sell"');
      if (!isPositiveSafeInt(a.price)) return badArgs('args.price must be a positive safe integer');
      if (!isPositiveSafeInt(a.qty)) return badArgs('args.qty must be a positive safe integer');
      const tif = a.tif;
      // Only a missing tif defaults; null is refused so clients cannot rely on an accident.
      if (tif !== undefined && tif !== 'gtc' && tif !== 'ioc') return badArgs('args.tif must be "gtc" or "ioc" when given');
      return null;
    }
    case 'cancel':
      return isOrderId(a.orderId) ? null : badArgs(ORDER_ID_PROBLEM);
    default:
      return unknownOp(NAME, op);
  }
}

/** Index of the level holding `orderId`, or -1. */
function levelIndexOf(levels: readonly Level[], orderId: string): number {
  for (let i = 0; i < levels.length; i++) {
    const orders = levels[i].orders;
    for (let j = 0; j < orders.length; j++) if (orders[j].orderId === orderId) return i;
  }
  return -1;
}

/**
 * Returns a copy of `levels` with `order` appended (youngest) at `price`, creating the
 * level if needed. Binary search because a wide book may have many levels.
 */
function withRestingOrder(levels: readonly Level[], price: number, order: RestingOrder, isBid: boolean): Level[] {
  let lo = 0;
  let hi = levels.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const p = levels[mid].price;
    if (isBid ? p > price : p < price) lo = mid + 1;
    else hi = mid;
  }
  const out = levels.slice();
  if (lo < levels.length && levels[lo].price === price) {
    const orders = levels[lo].orders;
    const copy = orders.slice() as RestingOrder[];
    copy.push(order);
    out[lo] = { price, orders: copy };
  } else {
    out.splice(lo, 0, { price, orders: [order] });
  }
  return out;
}

function place(state: OrderbookState, orderId: string, isBuy: boolean, limit: number, qty: number, ioc: boolean): ApplyOutcome<OrderbookState> {
  // Checked on both sides: an incoming order may not match against its own id either.
  if (levelIndexOf(state.bids, orderId) >= 0 || levelIndexOf(state.asks, orderId) >= 0) {
    return { ok: false, message: `order ${JSON.stringify(orderId)} is already resting` };
  }

  const opposite = isBuy ? state.asks : state.bids;
  const trades: Trade[] = [];
  let remaining = qty;
  // Levels before `consumed` are fully traded away; `frontLevel` replaces opposite[consumed]
  // when that level was only partly traded.
  let consumed = 0;
  let frontLevel: Level | undefined;
  while (remaining > 0 && consumed < opposite.length) {
    const level = opposite[consumed];
    if (isBuy ? level.price > limit : level.price < limit) break;
    const orders = level.orders;
    let filled = 0;
    let frontOrder: RestingOrder | undefined;
    while (remaining > 0 && filled < orders.length) {
      const resting = orders[filled];
      const q = resting.qty <= remaining ? resting.qty : remaining;
      trades.push(
        isBuy
          ? { buyOrderId: orderId, sellOrderId: resting.orderId, price: level.price, qty: q }
          : { buyOrderId: resting.orderId, sellOrderId: orderId, price: level.price, qty: q },
      );
      remaining -= q;
      if (q === resting.qty) filled++;
      else frontOrder = { orderId: resting.orderId, qty: resting.qty - q }; // remaining is now 0
    }
    if (filled === orders.length) {
      consumed++;
      continue;
    }
    const rest = orders.slice(filled) as RestingOrder[];
    if (frontOrder) rest[0] = frontOrder;
    frontLevel = { price: level.price, orders: rest };
    break;
  }

  let nextOpposite = opposite;
  if (consumed > 0 || frontLevel) {
    const copy = opposite.slice(consumed) as Level[];
    if (frontLevel) copy[0] = frontLevel;
    nextOpposite = copy;
  }

  const own = isBuy ? state.bids : state.asks;
  let nextOwn = own;
  let status: PlaceStatus;
  if (remaining === 0) status = 'filled';
  else if (ioc) status = 'cancelled';
  else {
    // Cannot cross: every opposite order at an acceptable price was consumed above.
    nextOwn = withRestingOrder(own, limit, { orderId, qty: remaining }, isBuy);
    status = trades.length > 0 ? 'partial' : 'resting';
  }

  // Always a fresh top-level object, even when nothing changed (an ioc that found no
  // match), as the Model contract promises a new state. Keys always in the same order
  // so encodings are byte-identical.
  const next: OrderbookState = isBuy ? { bids: nextOwn, asks: nextOpposite } : { bids: nextOpposite, asks: nextOwn };
  const result: PlaceResult = { orderId, status, remainingQty: remaining, trades };
  return { ok: true, state: next, result };
}

/** Copy of `levels` without `orderId` (known to be at levels[li]); drops the level if it empties. */
function withoutOrder(levels: readonly Level[], li: number, orderId: string): { levels: Level[]; qty: number } {
  const level = levels[li];
  const orders = level.orders;
  let oi = 0;
  while (orders[oi].orderId !== orderId) oi++;
  const out = levels.slice() as Level[];
  if (orders.length === 1) out.splice(li, 1);
  else {
    const rest = orders.slice() as RestingOrder[];
    rest.splice(oi, 1);
    out[li] = { price: level.price, orders: rest };
  }
  return { levels: out, qty: orders[oi].qty };
}

function cancel(state: OrderbookState, orderId: string): ApplyOutcome<OrderbookState> {
  let li = levelIndexOf(state.bids, orderId);
  let next: OrderbookState;
  let qty: number;
  if (li >= 0) {
    const r = withoutOrder(state.bids, li, orderId);
    next = { bids: r.levels, asks: state.asks };
    qty = r.qty;
  } else {
    li = levelIndexOf(state.asks, orderId);
    if (li < 0) return { ok: false, message: `order ${JSON.stringify(orderId)} is not resting` };
    const r = withoutOrder(state.asks, li, orderId);
    next = { bids: state.bids, asks: r.levels };
    qty = r.qty;
  }
  const result: CancelResult = { orderId, status: 'cancelled', remainingQty: qty };
  return { ok: true, state: next, result };
}

function apply(state: OrderbookState, op: string, args: Record<string, unknown> | undefined): ApplyOutcome<OrderbookState> {
  // A handful of comparisons; guards the book's integrity if a caller skipped validate.
  const problem = validate(op, args);
  if (problem) return { ok: false, message: problem.message };
  const a = args as Record<string, unknown>;
  if (op === 'cancel') return cancel(state, a.orderId as string);
  return place(state, a.orderId as string, a.side === 'buy', a.price as number, a.qty as number, a.tif === 'ioc');
}

export const orderbookModel: Model<OrderbookState> = {
  name: NAME,
  initial: () => ({ bids: [], asks: [] }),
  validate,
  apply,
};
