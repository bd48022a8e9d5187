/**
 * The asset store: every asset found by its id (and nothing else) across shard growth,
 * ids of any characters kept and given back exactly, and a row's model and committed
 * view as they were set.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getModel } from '@txtest/models';
import { AssetStore } from '../src/asset-store';

const account = getModel('account')!;

describe('asset store', () => {
  it('finds each of 50,000 assets by a fresh copy of its id, and no id it lacks', () => {
    const s = new AssetStore();
    const rows = Array.from({ length: 50_000 }, (_, i) => s.add(`acct-${i}`, account));
    expect(s.size).toBe(50_000);
    expect(rows).toEqual(Array.from({ length: 50_000 }, (_, i) => i));
    // Ids off the wire are new string objects: equal content must be enough.
    for (let i = 0; i < rows.length; i++) expect(s.find(['acct', String(i)].join('-'))).toBe(i);
    expect(s.find('acct-50000')).toBe(-1);
    expect(s.find('')).toBe(-1);
    expect(s.name(49_999)).toBe('acct-49999');
  });

  it('agrees with a Map on any set of ids, of any characters (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ maxLength: 12, unit: 'binary' }), { maxLength: 400 }),
        fc.array(fc.string({ maxLength: 12, unit: 'binary' }), { maxLength: 50 }),
        (ids, probes) => {
          const s = new AssetStore();
          const m = new Map<string, number>();
          for (const id of ids) m.set(id, s.add(id, account));
          for (const id of [...ids, ...probes]) expect(s.find(id)).toBe(m.get(id) ?? -1);
          for (const [id, row] of m) expect(s.name(row)).toBe(id);
        },
      ),
    );
  });

  it('keeps a row committed view and model; a row interned without a model gets one later', () => {
    const s = new AssetStore();
    const a = s.add('a', account);
    expect([s.model(a), s.state(a), s.version(a), s.seq(a)]).toEqual([account, 0, 0, 0]);
    s.commit(a, 42, 3, 2 ** 40);
    expect([s.state(a), s.version(a), s.seq(a)]).toEqual([42, 3, 2 ** 40]);
    const b = s.intern('b');
    expect([s.intern('b'), s.hasModel(b), s.model(b), s.size, s.rows]).toEqual([b, false, undefined, 1, 2]);
    s.setModel(b, account);
    expect([s.model(b), s.state(b), s.size]).toEqual([account, 0, 2]);
  });

  it('ids longer than what is left of a page start a new one', () => {
    const s = new AssetStore();
    const long = (i: number) => `${i}`.padEnd(128, '\u20ac');
    for (let i = 0; i < 3000; i++) s.add(long(i), account);
    for (let i = 0; i < 3000; i++) expect(s.name(s.find(long(i)))).toBe(long(i));
  });

  it('clear forgets everything', () => {
    const s = new AssetStore();
    s.add('x', account);
    s.clear();
    expect([s.size, s.rows, s.find('x')]).toEqual([0, 0, -1]);
  });
});
