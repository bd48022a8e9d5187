export type { ApplyOutcome, ArgsProblem, Model } from './model';
export { stateOf, viewOf } from './model';
export { isPositiveSafeInt, isSafeInt } from './checks';
export { MAX_JSON_DEPTH, isJsonValue, jsonEqual } from './json';
export { accountModel } from './account';
export type { AccountResult, AccountState, AccountView } from './account';
export { registerModel } from './register';
export type { RegisterResult, RegisterState } from './register';
export { MAX_ORDER_ID_LENGTH, orderbookModel } from './orderbook';
export type {
  CancelResult,
  Level,
  OrderbookState,
  PlaceResult,
  PlaceStatus,
  RestingOrder,
  Side,
  TimeInForce,
  Trade,
} from './orderbook';
export { getModel, models } from './registry';
