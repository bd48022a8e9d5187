import { describe, expect, it } from 'vitest';
import { MemoryLogStorage, recover } from '../src/index';
import { writeLog } from './helpers';

describe('Recovery.replay with a pause', () => {
  it('replays the same records in the same order, pausing between slices of one segment', async () => {
    const s = new MemoryLogStorage();
    await writeLog(s, { to: 40_000, segmentBytesMax: 64 << 20 });
    const rec = await recover(s, { warn: () => undefined });
    const whole: number[] = [];
    await rec.replay(1, (_e, seq) => void whole.push(seq));
    const sliced: number[] = [];
    let pauses = 0;
    let sincePause = 0;
    let longest = 0;
    const n = await rec.replay(
      5,
      (_e, seq) => {
        sliced.push(seq);
        longest = Math.max(longest, ++sincePause);
      },
      async () => {
        pauses++;
        sincePause = 0;
      },
    );
    expect(whole).toEqual(Array.from({ length: 40_000 }, (_, i) => i + 1));
    expect(sliced).toEqual(whole.slice(4));
    expect(n).toBe(39_996);
    // One segment of 40,000 records, in slices of at most 16,384 between pauses.
    expect(pauses).toBe(2);
    expect(longest).toBeLessThanOrEqual(16_384);
  });
});
