import { describe, expect, it } from 'vitest';
import { packMsgpack } from '@txtest/protocol';
import { DedupeRing, NUM_SEQ, NUM_TS, NUM_VERSION, packedStrEquals } from '../src/dedupe-ring';

/**
 * Fills `ring` from `from` to `to` (exclusive) with rows derived from the position, and
 * pops positions from the head until `keep` remain, so the head's slot moves around.
 */
function run(ring: DedupeRing, to: number, keep: number): void {
  while (ring.tail < to) {
    const pos = ring.tail;
    const slot = ring.claim();
    ring.setNumbers(slot, { hash: Math.imul(pos, 0x9e3779b1), seq: pos * 2, ts: pos * 3, version: pos + 1, epoch: pos % 7, ok: pos % 2 === 1 });
    // One row in three loose (its id an object field), the others packed (the id in a slab).
    if (pos % 3 === 0) {
      ring.looseColumn().set(slot, [`id-${pos}`, { pos }, pos]);
      ring.slabs.set(slot, null);
    } else {
      const slab = Buffer.from(packMsgpack(`id-${pos}`));
      ring.loose?.set(slot, undefined);
      ring.slabs.set(slot, slab);
      ring.setPacked(slot, 0, slab.length, slab.length, slab.length);
    }
    while (ring.length > keep) {
      ring.clearSlot(ring.slot(ring.head));
      ring.head++;
    }
  }
}

/** The first live position whose row is not what `run` wrote, or null. */
function firstWrongRow(ring: DedupeRing): number | null {
  for (let pos = ring.head; pos < ring.tail; pos++) {
    const slot = ring.slot(pos);
    const loose = ring.loose?.get(slot);
    const looseOk = pos % 3 === 0 ? loose !== undefined && loose[2] === pos : loose === undefined;
    if (
      ring.idAt(slot) !== `id-${pos}` ||
      !ring.idIs(slot, `id-${pos}`) ||
      ring.idIs(slot, `id-${pos + 1}`) ||
      ring.hash(slot) !== Math.imul(pos, 0x9e3779b1) ||
      ring.num(slot, NUM_SEQ) !== pos * 2 ||
      ring.num(slot, NUM_TS) !== pos * 3 ||
      ring.num(slot, NUM_VERSION) !== pos + 1 ||
      ring.epoch(slot) !== pos % 7 ||
      ring.ok(slot) !== (pos % 2 === 1) ||
      !looseOk
    )
      return pos;
  }
  return null;
}

function expectRows(ring: DedupeRing): void {
  expect(firstWrongRow(ring)).toBeNull();
}

describe('DedupeRing', () => {
  it('keeps every live row in place across doublings past the page size, whatever slot the head is at', () => {
    // Heads at a page boundary, inside a page, and wrapped more than once before growing.
    for (const [warm, keep] of [
      [0, 40_000],
      [4096, 4096],
      [5000, 3000],
      [70_000, 9000],
      [123_457, 20_000],
    ] as const) {
      const ring = new DedupeRing();
      run(ring, warm, keep);
      // Grow: never pop until the ring is more than twice the size it had.
      run(ring, warm + 3 * keep + 10_000, Number.MAX_SAFE_INTEGER);
      expectRows(ring);
      // And keep moving, so slots reused after the growth are checked too.
      run(ring, ring.tail + 50_000, keep);
      expectRows(ring);
    }
  });

  it('drops the references of a cleared slot, and positionAfterSeq still searches the paged seqs', () => {
    const ring = new DedupeRing();
    run(ring, 20_000, 10_000);
    const headSlot = ring.slot(ring.head);
    ring.clearSlot(headSlot);
    expect(ring.slabs.get(headSlot)).toBeUndefined();
    expect(ring.loose?.get(headSlot)).toBeUndefined();
    ring.head++;
    expect(ring.positionAfterSeq(2 * 15_000)).toBe(15_001);
    expect(ring.positionAfterSeq(0)).toBe(ring.head);
    expect(ring.positionAfterSeq(Number.MAX_SAFE_INTEGER)).toBe(ring.tail);
  });

  it('a column made on first use at a capacity of many pages (the loose column after a load of packed rows) reads blank in every page', () => {
    const ring = new DedupeRing();
    for (let i = 0; i < 20_000; i++) ring.claim();
    const loose = ring.looseColumn();
    let set = 0;
    for (let slot = 0; slot < ring.capacity; slot++) if (loose.get(slot) !== undefined) set++;
    expect(set).toBe(0);
  });

  it('compares a packed id with a string without decoding it, for every str header and non-ASCII ids', () => {
    for (const id of ['', 'a', 'x'.repeat(31), 'y'.repeat(32), 'z'.repeat(300), 'zé-1', 'id-✓', '😀-emoji']) {
      const b = Buffer.from(packMsgpack(id));
      expect(packedStrEquals(b, 0, b.length, id)).toBe(true);
      expect(packedStrEquals(b, 0, b.length, `${id}!`)).toBe(false);
      if (id.length > 0) expect(packedStrEquals(b, 0, b.length, id.slice(1))).toBe(false);
    }
    // Same length in UTF-16 units, different bytes.
    const b = Buffer.from(packMsgpack('abé'));
    expect(packedStrEquals(b, 0, b.length, 'abe')).toBe(false);
    expect(packedStrEquals(b, 0, b.length, 'abè')).toBe(false);
  });
});
