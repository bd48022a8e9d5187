/**
 * The actor table: every actor found by its asset id (and nothing else), across shard
 * growth; and its iteration, which a snapshot walk reads a slice at a time while
 * actors are added, visits every actor present when it began exactly once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getModel } from '@txtest/models';
import { AssetActor } from '../src/asset-actor';
import { AssetTable } from '../src/asset-table';

const account = getModel('account')!;
const actor = (asset: string) => AssetActor.create(asset, account);

describe('asset table', () => {
  it('finds each of 50,000 actors by a fresh copy of its id, and no id it lacks', () => {
    const t = new AssetTable();
    const added = Array.from({ length: 50_000 }, (_, i) => actor(`acct-${i}`));
    for (const a of added) t.add(a);
    expect(t.size).toBe(50_000);
    // Ids off the wire are new string objects: equal content must be enough.
    for (let i = 0; i < added.length; i++) expect(t.get(['acct', String(i)].join('-'))).toBe(added[i]);
    expect(t.get('acct-50000')).toBeUndefined();
    expect(t.get('')).toBeUndefined();
  });

  it('agrees with a Map on any set of ids (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ maxLength: 12 }), { maxLength: 400 }),
        fc.array(fc.string({ maxLength: 12 }), { maxLength: 50 }),
        (ids, probes) => {
          const t = new AssetTable();
          const m = new Map<string, AssetActor>();
          for (const id of ids) {
            const a = actor(id);
            t.add(a);
            m.set(id, a);
          }
          for (const id of [...ids, ...probes]) expect(t.get(id)).toBe(m.get(id));
          expect(new Set(t.values())).toEqual(new Set(m.values()));
        },
      ),
    );
  });

  it('an iteration interleaved with additions (shards growing under it) visits every earlier actor exactly once', () => {
    const t = new AssetTable();
    const before = Array.from({ length: 20_000 }, (_, i) => actor(`a${i}`));
    for (const a of before) t.add(a);
    const it = t.values();
    const seen = new Map<AssetActor, number>();
    let added = 0;
    for (let r = it.next(); r.done !== true; r = it.next()) {
      seen.set(r.value, (seen.get(r.value) ?? 0) + 1);
      // Four new actors per one read: every shard doubles at least once meanwhile.
      for (let k = 0; k < 4; k++) t.add(actor(`b${added++}`));
    }
    for (const a of before) expect(seen.get(a)).toBe(1);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(t.size).toBe(20_000 + added);
  });

  it('clear forgets everything', () => {
    const t = new AssetTable();
    t.add(actor('x'));
    t.clear();
    expect([t.size, t.get('x'), [...t.values()].length]).toEqual([0, undefined, 0]);
  });
});
