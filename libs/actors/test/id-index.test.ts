import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashId, IdIndex } from '../src/id-index';

interface E {
  id: string;
  hash: number;
  n: number;
}
const entry = (id: string, n = 0): E => ({ id, hash: hashId(id), n });

describe('IdIndex', () => {
  it('behaves like a Map under random inserts, replacements and deletes (growth and backward-shift deletion included)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('set', 'delete'), fc.integer({ min: 0, max: 3000 })), { minLength: 1, maxLength: 4000 }),
        (ops) => {
          const idx = new IdIndex<E>();
          const model = new Map<string, E>();
          for (const [op, k] of ops) {
            const id = `id-${k}`;
            if (op === 'set') {
              const e = entry(id, k);
              idx.set(e);
              model.set(id, e);
            } else {
              const cur = model.get(id);
              if (cur !== undefined) {
                expect(idx.delete(cur)).toBe(true);
                model.delete(id);
              } else expect(idx.delete(entry(id))).toBe(false);
            }
          }
          expect(idx.size).toBe(model.size);
          for (const [id, e] of model) expect(idx.get(id, hashId(id))).toBe(e);
          for (let k = 0; k <= 3000; k += 7) if (!model.has(`id-${k}`)) expect(idx.get(`id-${k}`, hashId(`id-${k}`))).toBeUndefined();
          expect(new Set(idx.values())).toEqual(new Set(model.values()));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('deletes only the entry given, not a newer one that replaced it under the same id', () => {
    const idx = new IdIndex<E>();
    const old = entry('x', 1);
    const newer = entry('x', 2);
    idx.set(old);
    idx.set(newer);
    expect(idx.delete(old)).toBe(false);
    expect(idx.get('x', hashId('x'))).toBe(newer);
  });

  it('keeps 100,000 live ids while 300,000 churn through (insert one, evict the oldest) and finds every live one', () => {
    const idx = new IdIndex<E>();
    const live: E[] = [];
    for (let i = 0; i < 300_000; i++) {
      const e = entry(`c${i.toString(36)}`, i);
      idx.set(e);
      live.push(e);
      if (live.length > 100_000) idx.delete(live[live.length - 100_001]!);
    }
    expect(idx.size).toBe(100_000);
    for (let i = 200_000; i < 300_000; i += 97) expect(idx.get(`c${i.toString(36)}`, hashId(`c${i.toString(36)}`))?.n).toBe(i);
    expect(idx.get('c0', hashId('c0'))).toBeUndefined();
    idx.clear();
    expect(idx.size).toBe(0);
  });
});
