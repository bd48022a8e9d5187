import { describe, expect, it } from 'vitest';
import { accountModel, getModel, isSafeInt, models, orderbookModel, registerModel } from '../src/index';

describe('model registry', () => {
  it('serves the three models under their own names', () => {
    expect([...models.keys()].sort()).toEqual(['account', 'orderbook', 'register']);
    expect(getModel('account')).toBe(accountModel);
    expect(getModel('register')).toBe(registerModel);
    expect(getModel('orderbook')).toBe(orderbookModel);
    for (const [name, model] of models) expect(model.name).toBe(name);
  });

  it('knows no other names, including inherited property names', () => {
    expect(getModel('nope')).toBeUndefined();
    expect(getModel('__proto__')).toBeUndefined();
    expect(getModel('constructor')).toBeUndefined();
  });

  it('every model refuses unknown ops with UNKNOWN_OP naming the model', () => {
    for (const [name, model] of models) {
      expect(model.validate('frobnicate', {})).toEqual({ code: 'UNKNOWN_OP', message: `model "${name}" has no op "frobnicate"` });
    }
  });

  it('every initial state survives a JSON round trip unchanged', () => {
    for (const model of models.values()) {
      const s = model.initial();
      expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    }
  });

  it('isSafeInt accepts exactly the safe integers', () => {
    expect(isSafeInt(0)).toBe(true);
    expect(isSafeInt(-5)).toBe(true);
    expect(isSafeInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(isSafeInt(Number.MAX_SAFE_INTEGER + 1)).toBe(false);
    expect(isSafeInt(1.5)).toBe(false);
    expect(isSafeInt('1')).toBe(false);
  });
});
