import { describe, expect, it } from 'vitest';
import { batchEntries, parseQuery, parseUpdate, subjects } from '../src/index';

const ok = { id: 'r1', asset: 'acct:1', op: 'credit', args: { amount: 5 }, model: 'account' };

describe('validation at the edge', () => {
  it('accepts a well-formed update and drops unknown top-level fields', () => {
    const r = parseUpdate({ ...ok, extra: 'ignored' });
    expect(r).toEqual({ ok: true, value: ok });
  });

  it.each([
    ['not a map', 'x', 'BAD_REQUEST', /must be a map/],
    ['missing id', { ...ok, id: undefined }, 'BAD_REQUEST', /id must be a string/],
    ['empty id', { ...ok, id: '' }, 'BAD_REQUEST', /id must not be empty/],
    ['id over 128 bytes of UTF-8', { ...ok, id: 'é'.repeat(65) }, 'BAD_REQUEST', /128 bytes/],
    ['asset with a space', { ...ok, asset: 'a b' }, 'BAD_REQUEST', /asset may only contain/],
    ['asset too long', { ...ok, asset: 'a'.repeat(129) }, 'BAD_REQUEST', /1\.\.128/],
    ['op not a string', { ...ok, op: 3 }, 'BAD_REQUEST', /op must be/],
    ['model not a string', { ...ok, model: 1 }, 'BAD_REQUEST', /model must be/],
    ['args not a map', { ...ok, args: [1] }, 'BAD_ARGS', /args must be a map/],
    ['args with binary', { ...ok, args: { b: new Uint8Array(2) } }, 'BAD_ARGS', /args\.b is not plain data/],
    ['args with NaN', { ...ok, args: { n: NaN } }, 'BAD_ARGS', /args\.n/],
    ['args nested too deep', { ...ok, args: JSON.parse('{"a":'.repeat(40) + '1' + '}'.repeat(40)) }, 'BAD_ARGS', /nested at most/],
  ])('refuses %s', (_name, body, code, message) => {
    const r = parseUpdate(body);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reply.error.code).toBe(code);
      expect(r.reply.error.message).toMatch(message);
    }
  });

  it('an id of exactly 128 multi-byte-free characters is fine; the error reply carries a valid id', () => {
    expect(parseUpdate({ ...ok, id: 'x'.repeat(128) }).ok).toBe(true);
    const r = parseUpdate({ ...ok, asset: '' });
    expect(!r.ok && r.reply.id).toBe('r1');
  });

  it('recognises batches and their limits', () => {
    expect(batchEntries(ok)).toBeNull();
    expect(batchEntries({ batch: [ok] })).toEqual({ ok: true, value: [ok] });
    const tooMany = batchEntries({ batch: new Array(1025).fill(ok) });
    expect(!tooMany?.ok && tooMany?.reply.error.message).toMatch(/1024/);
    expect(batchEntries({ batch: [] })?.ok).toBe(false);
  });

  it('queries need a valid asset id', () => {
    expect(parseQuery({ asset: 'a.1' })).toEqual({ ok: true, value: { asset: 'a.1' } });
    expect(parseQuery({}).ok).toBe(false);
  });

  it('subjects live under prefix.cluster', () => {
    const s = subjects('p', 'c');
    expect([s.tx, s.query, s.status('n1'), s.events('a.1'), s.eventsAll, s.node('n2')]).toEqual([
      'p.c.tx',
      'p.c.query',
      'p.c.status.n1',
      'p.c.events.a.1',
      'p.c.events.>',
      'p.c._node.n2',
    ]);
  });
});
