import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, isJsonValue, jsonEqual, registerModel } from '../src/index';
import type { RegisterState } from '../src/index';
import { applyOk, applyRejected } from './helpers';

const m = registerModel;
const holding = (value: unknown): RegisterState => ({ value });

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describe('register model', () => {
  it('is registered under the name "register" and starts holding null', () => {
    expect(m.name).toBe('register');
    expect(m.initial()).toEqual({ value: null });
  });

  describe('set', () => {
    it.each([
      ['null', null],
      ['a boolean', false],
      ['a number', -12.5],
      ['a string', 'hello'],
      ['an array', [1, 'a', null, [true]]],
      ['a plain object', { a: 1, b: { c: [1, 2] } }],
      ['an object without prototype', Object.assign(Object.create(null) as object, { a: 1 })],
    ])('stores %s and reports it', (_name, value) => {
      const out = applyOk(m, holding('old'), 'set', { value });
      expect(out.state).toEqual({ value });
      expect(out.result).toEqual({ value });
    });

    it('replaces the value without touching the previous state', () => {
      const before = holding({ a: 1 });
      const out = applyOk(m, before, 'set', { value: { a: 2 } });
      expect(before).toEqual({ value: { a: 1 } });
      expect(out.state).not.toBe(before);
    });
  });

  describe('cas', () => {
    it('sets the value when the current value equals expect', () => {
      const out = applyOk(m, holding(3), 'cas', { expect: 3, value: 4 });
      expect(out.state).toEqual({ value: 4 });
      expect(out.result).toEqual({ value: 4 });
    });

    it('succeeds on a fresh register when expect is null', () => {
      expect(applyOk(m, m.initial(), 'cas', { expect: null, value: 'x' }).state).toEqual({ value: 'x' });
    });

    it('compares objects deeply, ignoring key order', () => {
      const current = { a: 1, b: { x: [1, { y: 2, z: 3 }], w: null } };
      const expected = { b: { w: null, x: [1, { z: 3, y: 2 }] }, a: 1 };
      expect(applyOk(m, holding(current), 'cas', { expect: expected, value: 'next' }).state).toEqual({ value: 'next' });
    });

    it.each([
      ['a different number', 3, 4],
      ['a number vs the same digits as a string', 3, '3'],
      ['null vs false', null, false],
      ['null vs an empty object', null, {}],
      ['an array vs an object with index keys', [1], { 0: 1 }],
      ['arrays in a different order', [1, 2], [2, 1]],
      ['an object with an extra key', { a: 1 }, { a: 1, b: 2 }],
      ['an object missing a key', { a: 1, b: 2 }, { a: 1 }],
      ['a deep difference', { a: { b: [1, { c: 1 }] } }, { a: { b: [1, { c: 2 }] } }],
    ])('is rejected on %s, leaving nothing changed', (_name, current, expected) => {
      const msg = applyRejected(m, holding(current), 'cas', { expect: expected, value: 'next' });
      expect(msg).toMatch(/args\.expect/);
    });
  });

  describe('validate', () => {
    it('refuses an unknown op', () => {
      expect(m.validate('get', { value: 1 })).toEqual({ code: 'UNKNOWN_OP', message: 'model "register" has no op "get"' });
    });

    it('requires args.value for set and cas, and args.expect for cas', () => {
      expect(m.validate('set', undefined)).toMatchObject({ code: 'BAD_ARGS', message: expect.stringMatching(/^args\.value is required/) });
      expect(m.validate('set', {})).toMatchObject({ code: 'BAD_ARGS', message: expect.stringMatching(/^args\.value /) });
      expect(m.validate('cas', { value: 1 })).toMatchObject({ code: 'BAD_ARGS', message: expect.stringMatching(/^args\.expect is required/) });
      expect(m.validate('cas', { expect: 1 })).toMatchObject({ code: 'BAD_ARGS', message: expect.stringMatching(/^args\.value is required/) });
    });

    it.each([
      ['NaN', { value: Number.NaN }, /^args\.value must be a finite number/],
      ['Infinity deep inside', { value: { a: [0, { b: Infinity }] } }, /^args\.value\.a\[1\]\.b must be a finite number/],
      ['undefined inside an array', { value: [1, undefined] }, /^args\.value\[1\] must be null, a boolean/],
      ['a function', { value: { f: () => 1 } }, /^args\.value\.f must be null/],
      ['a bigint', { value: 1n }, /^args\.value must be null/],
      ['a Map', { value: new Map() }, /^args\.value must be a plain object, not a Map/],
      ['a Date', { value: { when: new Date(0) } }, /^args\.value\.when must be a plain object, not a Date/],
      ['bytes', { value: new Uint8Array(2) }, /^args\.value must be a plain object/],
      ['an odd key', { value: { 'a b': Number.NaN } }, /^args\.value\["a b"\] must be a finite number/],
      ['too deep', { value: nested(MAX_JSON_DEPTH + 1) }, /nested more than/],
    ])('refuses %s with a message naming the field', (_name, args, message) => {
      expect(m.validate('set', args)).toMatchObject({ code: 'BAD_ARGS', message: expect.stringMatching(message) });
    });

    it('names args.expect when the expected value is not JSON-like', () => {
      expect(m.validate('cas', { expect: [Number.NaN], value: 1 })?.message).toMatch(/^args\.expect\[0\] must be a finite number/);
    });

    it('accepts values nested up to the depth limit', () => {
      expect(m.validate('set', { value: nested(MAX_JSON_DEPTH) })).toBeNull();
    });
  });
});

describe('JSON-like helpers', () => {
  it('isJsonValue accepts JSON-parsed data and refuses undefined', () => {
    expect(isJsonValue(JSON.parse('{"a":[1,2,{"b":null}],"c":"x"}'))).toBe(true);
    expect(isJsonValue(undefined)).toBe(false);
  });

  it('jsonEqual treats 0 and -0 as equal, as JSON does', () => {
    expect(jsonEqual(0, -0)).toBe(true);
    expect(jsonEqual({ a: [0] }, { a: [-0] })).toBe(true);
  });

  it('jsonEqual is reflexive and symmetric on mixed values', () => {
    const a = { k: [1, 'x', null, { z: true }] };
    const b = { k: [1, 'x', null, { z: false }] };
    expect(jsonEqual(a, structuredClone(a))).toBe(true);
    expect(jsonEqual(a, b)).toBe(false);
    expect(jsonEqual(b, a)).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 1 })).toBe(false);
    expect(jsonEqual({ a: 1, b: 1 }, { a: 1 })).toBe(false);
  });
});
