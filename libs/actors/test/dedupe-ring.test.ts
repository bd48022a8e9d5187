import { describe, expect, it } from 'vitest';
import { DedupeRing } from '../src/dedupe-ring';

/**
 * Fills `ring` from `from` to `to` (exclusive) with rows derived from the position, and
 * pops positions from the head until `keep` remain, so the head's slot moves around.
 */
function run(ring: DedupeRing, to: number, keep: number): void {
  while (ring.tail < to) {
    const pos = ring.tail;
    const slot = ring.claim();
    ring.ids.set(slot, `id-${pos}`);
    ring.seqs.set(slot, pos * 2);
    ring.oks.set(slot, pos % 2);
    if (pos % 3 === 0) ring.looseColumn().set(slot, [{ pos }, pos]);
    else ring.loose?.set(slot, undefined);
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
    const looseOk = pos % 3 === 0 ? loose !== undefined && loose[1] === pos : loose === undefined;
    if (ring.ids.get(slot) !== `id-${pos}` || ring.seqs.get(slot) !== pos * 2 || ring.oks.get(slot) !== pos % 2 || !looseOk) return pos;
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
    expect(ring.ids.get(headSlot)).toBeUndefined();
    ring.head++;
    expect(ring.positionAfterSeq(2 * 15_000)).toBe(15_001);
    expect(ring.positionAfterSeq(0)).toBe(ring.head);
    expect(ring.positionAfterSeq(Number.MAX_SAFE_INTEGER)).toBe(ring.tail);
  });
});
