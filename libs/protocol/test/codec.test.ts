import { Packr, pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { canonicalJson, decodeBody, decodeRecord, encodeBody, encodeRecord, findExtension, plainEqual } from '../src/index';

describe('codec', () => {
  it('round-trips plain maps in MessagePack and JSON', () => {
    const v = { id: 'a', n: 1, nested: { list: [1, 'two', null, true] } };
    for (const enc of ['msgpack', 'json'] as const) {
      expect(decodeBody(encodeBody(v, enc), enc)).toEqual({ ok: true, value: v });
    }
  });

  it('an empty body decodes as undefined (status requests may carry none)', () => {
    expect(decodeBody(new Uint8Array(0), 'msgpack')).toEqual({ ok: true, value: undefined });
  });

  it('refuses undecodable bytes with a sentence instead of throwing', () => {
    const bad = decodeBody(new Uint8Array([0x92, 0x01]), 'msgpack');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.message).toMatch(/MessagePack/);
    const badJson = decodeBody(new TextEncoder().encode('{"a":'), 'json');
    expect(!badJson.ok && badJson.message).toMatch(/JSON/);
    const badUtf8 = decodeBody(new Uint8Array([0x22, 0xff, 0x22]), 'json');
    expect(badUtf8.ok).toBe(false);
  });

  it('finds MessagePack extensions anywhere: timestamps, records, typed arrays', () => {
    expect(findExtension(pack({ a: [1, { b: new Date(0) }] }))).toBeGreaterThan(0);
    expect(findExtension(new Packr({ useRecords: true }).pack({ a: 1 }))).toBeGreaterThanOrEqual(0);
    expect(findExtension(new Packr({ moreTypes: true, useRecords: false }).pack({ f: new Float64Array([1]) }))).toBeGreaterThan(0);
    expect(findExtension(pack({ s: 'x'.repeat(300), n: 2 ** 40, bin: Buffer.alloc(3), arr: new Array(20).fill(-1) }))).toBe(-1);
    const r = decodeBody(pack({ at: new Date(0) }), 'msgpack');
    expect(!r.ok && r.message).toMatch(/extension at byte/);
  });

  it('update records round-trip and reject what is not one', () => {
    const rec = { ts: 5, id: 'i', asset: 'a', model: 'account', op: 'credit', args: { amount: 3 } };
    expect(decodeRecord(encodeRecord(rec))).toEqual(rec);
    expect(decodeRecord(encodeRecord({ ...rec, args: undefined }))).toEqual({ ...rec, args: undefined });
    expect(() => decodeRecord(pack([9]))).toThrow(/not an update record/);
  });

  it('plainEqual ignores key order; canonicalJson sorts keys at every level', () => {
    expect(plainEqual({ a: 1, b: [1, { c: 2, d: 3 }] }, { b: [1, { d: 3, c: 2 }], a: 1 })).toBe(true);
    expect(plainEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(plainEqual([1, 2], [2, 1])).toBe(false);
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
  });
});
