import { unpack } from 'msgpackr';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MsgReader, MsgWriter, decodeRecord, encodeRecord, writeRecord } from '../src/index';

const plain = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

describe('MsgWriter and MsgReader', () => {
  it('whatever MsgWriter writes, msgpackr and MsgReader read back equal (property)', () => {
    const w = new MsgWriter();
    const r = new MsgReader();
    fc.assert(
      fc.property(plain, (v) => {
        w.value(v);
        const bytes = w.take();
        expect(unpack(bytes)).toEqual(v);
        expect(r.reset(bytes).value()).toEqual(v);
      }),
      { numRuns: 500 },
    );
  });

  it('views handed out by take() stay valid after later writes and slab changes', () => {
    const w = new MsgWriter();
    const taken: [unknown, Uint8Array][] = [];
    for (let i = 0; i < 5000; i++) {
      const v = { i, s: 'x'.repeat(i % 300) };
      w.value(v);
      taken.push([v, w.take()]);
    }
    for (const [v, bytes] of taken) expect(unpack(bytes)).toEqual(v);
  });

  it('a record written in place decodes like one packed by msgpackr', () => {
    const w = new MsgWriter();
    const rec = { ts: 1_700_000_000_123, id: 'id-é', asset: 'a.1', model: 'account', op: 'credit', args: { amount: 3, note: [1, 'two'] } };
    writeRecord(w, rec.ts, rec.id, rec.asset, rec.model, rec.op, rec.args);
    const bytes = w.take();
    expect(decodeRecord(bytes)).toEqual(rec);
    expect(bytes).toEqual(encodeRecord(rec));
  });

  it('MsgReader refuses what is not plain data, and truncated input, with an error', () => {
    expect(() => new MsgReader().reset(new Uint8Array([0xc7, 1, 1, 0])).value()).toThrow(/not plain data/);
    expect(() => new MsgReader().reset(new Uint8Array([0x92, 0x01])).value()).toThrow(/ends early/);
  });
});
