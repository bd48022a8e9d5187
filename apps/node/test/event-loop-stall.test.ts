import { afterEach, describe, expect, it } from 'vitest';
import { EventLoopStalls } from '../src/event-loop-stall';

describe('EventLoopStalls', () => {
  let stalls: EventLoopStalls | null = null;
  afterEach(() => stalls?.stop());

  it('sees a loop blocked on purpose, in the recent window and in the peak', async () => {
    stalls = new EventLoopStalls(100, 5, 10);
    stalls.start();
    // Let the histogram take its first samples, then block the loop for 150 ms.
    await new Promise((resolve) => setImmediate(resolve));
    const until = Date.now() + 150;
    while (Date.now() < until);
    // The blocked interval is recorded by the sample that follows it: poll for it.
    await expect.poll(() => stalls!.recentMaxMs(), { timeout: 5000 }).toBeGreaterThanOrEqual(130);
    expect(stalls.peakMs()).toBeGreaterThanOrEqual(stalls.recentMaxMs());
  });
});
