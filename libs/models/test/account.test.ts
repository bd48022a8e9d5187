import { describe, expect, it } from 'vitest';
import { accountModel } from '../src/index';
import { applyOk, applyRejected } from './helpers';

const m = accountModel;
/** The state kept for an account is its balance (readers see `{ balance }`, its view). */
const at = (balance: number): number => balance;

describe('account model', () => {
  it('is registered under the name "account" and starts at a zero balance', () => {
    expect(m.name).toBe('account');
    expect(m.initial()).toBe(0);
    expect(m.view!(m.initial())).toEqual({ balance: 0 });
  });

  it('shows its balance as { balance } and reads that view back, refusing a malformed one by name', () => {
    expect(m.view!(42)).toEqual({ balance: 42 });
    expect(m.fromView!({ balance: 42 })).toBe(42);
    for (const bad of [null, 42, {}, { balance: -1 }, { balance: 1.5 }, { balance: '3' }, { balance: Number.MAX_SAFE_INTEGER + 1 }]) {
      expect(() => m.fromView!(bad)).toThrow(/an account state must be \{ balance: a non-negative safe integer \}/);
    }
  });

  describe('credit', () => {
    it('adds the amount and reports the new balance', () => {
      const out = applyOk(m, at(10), 'credit', { amount: 5 });
      expect(out.state).toBe(15);
      expect(out.result).toEqual({ balance: 15 });
    });

    it('may reach exactly MAX_SAFE_INTEGER', () => {
      const out = applyOk(m, at(Number.MAX_SAFE_INTEGER - 3), 'credit', { amount: 3 });
      expect(out.state).toBe(Number.MAX_SAFE_INTEGER);
    });

    it('is rejected when the balance would pass MAX_SAFE_INTEGER', () => {
      const msg = applyRejected(m, at(Number.MAX_SAFE_INTEGER - 3), 'credit', { amount: 4 });
      expect(msg).toMatch(/credit/);
    });

    it('is rejected when both the balance and the amount are huge (the sum would round)', () => {
      applyRejected(m, at(Number.MAX_SAFE_INTEGER), 'credit', { amount: Number.MAX_SAFE_INTEGER });
    });
  });

  describe('debit', () => {
    it('subtracts the amount and reports the new balance', () => {
      const out = applyOk(m, at(10), 'debit', { amount: 4 });
      expect(out.state).toBe(6);
      expect(out.result).toEqual({ balance: 6 });
    });

    it('may take the balance to exactly zero', () => {
      expect(applyOk(m, at(7), 'debit', { amount: 7 }).state).toBe(0);
    });

    it('is rejected when it would make the balance negative', () => {
      const msg = applyRejected(m, at(7), 'debit', { amount: 8 });
      expect(msg).toMatch(/insufficient funds/);
    });

    it('is rejected on a fresh account', () => {
      applyRejected(m, m.initial(), 'debit', { amount: 1 });
    });
  });

  describe('validate', () => {
    it('accepts credit and debit with a positive safe integer amount (null means go ahead)', () => {
      expect(m.validate('credit', { amount: 1 })).toBeNull();
      expect(m.validate('debit', { amount: Number.MAX_SAFE_INTEGER })).toBeNull();
    });

    it('refuses an unknown op naming the model and the op', () => {
      expect(m.validate('foo', { amount: 1 })).toEqual({ code: 'UNKNOWN_OP', message: 'model "account" has no op "foo"' });
    });

    it('refuses inherited property names as ops', () => {
      expect(m.validate('toString', { amount: 1 })?.code).toBe('UNKNOWN_OP');
      expect(m.validate('__proto__', { amount: 1 })?.code).toBe('UNKNOWN_OP');
    });

    it.each([
      ['missing args', undefined],
      ['missing amount', {}],
      ['zero', { amount: 0 }],
      ['negative', { amount: -1 }],
      ['fraction', { amount: 1.5 }],
      ['string', { amount: '5' }],
      ['NaN', { amount: Number.NaN }],
      ['Infinity', { amount: Number.POSITIVE_INFINITY }],
      ['unsafe integer', { amount: Number.MAX_SAFE_INTEGER + 1 }],
      ['null', { amount: null }],
      ['bigint', { amount: 5n }],
    ])('refuses %s with BAD_ARGS naming args.amount', (_name, args) => {
      for (const op of ['credit', 'debit']) {
        expect(m.validate(op, args as Record<string, unknown> | undefined)).toEqual({
          code: 'BAD_ARGS',
          message: 'args.amount must be a positive safe integer',
        });
      }
    });
  });

  describe('apply on input that skipped validate', () => {
    it('refuses rather than corrupting the balance', () => {
      const out = m.apply(at(5), 'credit', { amount: '5' });
      expect(out.ok).toBe(false);
      expect(m.apply(at(5), 'nope', { amount: 1 }).ok).toBe(false);
    });
  });
});
