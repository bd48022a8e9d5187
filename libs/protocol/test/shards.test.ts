import { describe, expect, it } from 'vitest';
import { defaultNodeIds, defaultPairIds, fnv1a32, shardOf, shardSpecProblem, subjects } from '../src/index';

describe('the shard of an asset (section 12)', () => {
  it('is FNV-1a over the UTF-8 bytes: the published test vectors, and a non-ASCII id by its bytes', () => {
    expect(fnv1a32('')).toBe(2166136261);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    // U+00E9 is c3 a9 in UTF-8: two bytes, not its one UTF-16 unit.
    expect(fnv1a32('é')).toBe(0x1e9de8c1);
  });

  it('is the hash mod S, 0 when unsharded', () => {
    expect(shardOf('acct-1', 1)).toBe(0);
    expect(shardOf('acct-1', 2)).toBe(2353143644 % 2);
    expect(shardOf('acct-1', 7)).toBe(2353143644 % 7);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[shardOf(`acct-${i}`, 4)]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  it('names the shard subjects: P.C.tx.k with several shards, P.C.tx with one', () => {
    expect(subjects('txtest', 'default').tx).toBe('txtest.default.tx');
    expect(subjects('txtest', 'default', { index: 0, count: 1 }).query).toBe('txtest.default.query');
    const s = subjects('txtest', 'eu', { index: 3, count: 4 });
    expect([s.tx, s.query, s.status('s3-n1'), s.statusAll, s.events('a')]).toEqual([
      'txtest.eu.tx.3',
      'txtest.eu.query.3',
      'txtest.eu.status.s3-n1',
      'txtest.eu.status',
      'txtest.eu.events.a',
    ]);
  });

  it('refuses a shard outside its cluster, in a sentence', () => {
    expect(shardSpecProblem({ index: 0, count: 1 })).toBeNull();
    expect(shardSpecProblem({ index: 2, count: 2 })).toMatch(/shard must be a whole number from 0 to 1 \(there are 2 shards\), not 2/);
    expect(shardSpecProblem({ index: 0, count: 0 })).toMatch(/shards must be a whole number from 1 to 1024/);
  });

  it("has the tools' default node ids", () => {
    expect(defaultPairIds()).toEqual(['n1', 'n2']);
    expect(defaultNodeIds(1)).toEqual(['n1', 'n2']);
    expect(defaultNodeIds(2)).toEqual(['s0-n1', 's0-n2', 's1-n1', 's1-n2']);
  });
});
