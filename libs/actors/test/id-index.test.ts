import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashId, IdIndex } from '../src/id-index';

/**
 * Positions are handed out in order from `first`, as the ring does (which, after 2^32
 * updates, is past what 32 bits hold); `ids[pos - first]` is the id stored there.
 */
function harness(first = 0) {
  const ids: string[] = [];
  const idx = new IdIndex(
    (pos, id) => ids[pos - first] === id,
    (pos, other) => ids[pos - first] === ids[other - first],
    () => first,
  );
  const put = (id: string) => {
    const pos = first + ids.length;
    ids.push(id);
    // Every other one by position, as a snapshot's rows are (compared in the ring, not as strings).
    if (pos % 2 === 0) idx.set(id, hashId(id), pos);
    else idx.setAt(hashId(id), pos);
    return pos;
  };
  return { idx, ids, put, find: (id: string) => idx.find(id, hashId(id)) };
}

describe('IdIndex', () => {
  it('behaves like a Map under random inserts, moves and deletes (growth and backward-shift deletion included), at positions past 2^32 too', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0, 2 ** 32 - 1500, 5 * 2 ** 32 + 17),
        fc.array(fc.tuple(fc.constantFrom('set', 'delete'), fc.integer({ min: 0, max: 3000 })), { minLength: 1, maxLength: 4000 }),
        (first, ops) => {
          const h = harness(first);
          const model = new Map<string, number>();
          for (const [op, k] of ops) {
            const id = `id-${k}`;
            if (op === 'set') model.set(id, h.put(id));
            else {
              const cur = model.get(id);
              if (cur !== undefined) {
                expect(h.idx.delete(hashId(id), cur)).toBe(true);
                model.delete(id);
              } else expect(h.idx.delete(hashId(id), 1e9)).toBe(false);
            }
          }
          expect(h.idx.size).toBe(model.size);
          for (const [id, pos] of model) expect(h.find(id)).toBe(pos);
          for (let k = 0; k <= 3000; k += 7) if (!model.has(`id-${k}`)) expect(h.find(`id-${k}`)).toBe(-1);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('deletes only the position given, not a newer one the same id moved to', () => {
    const h = harness();
    const old = h.put('x');
    const newer = h.put('x');
    expect(h.idx.size).toBe(1);
    expect(h.idx.delete(hashId('x'), old)).toBe(false);
    expect(h.find('x')).toBe(newer);
  });

  it('keeps 100,000 live ids while 300,000 churn through (insert one, evict the oldest) and finds every live one', () => {
    const h = harness();
    for (let i = 0; i < 300_000; i++) {
      h.put(`c${i.toString(36)}`);
      if (i >= 100_000) expect(h.idx.delete(hashId(h.ids[i - 100_000]!), i - 100_000)).toBe(true);
    }
    expect(h.idx.size).toBe(100_000);
    for (let i = 200_000; i < 300_000; i += 97) expect(h.find(`c${i.toString(36)}`)).toBe(i);
    expect(h.find('c0')).toBe(-1);
    h.idx.clear();
    expect(h.idx.size).toBe(0);
  });
});
