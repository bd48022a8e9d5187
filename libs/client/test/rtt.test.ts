import { describe, expect, it } from 'vitest';
import { RttEstimator } from '../src/rtt';

describe('RttEstimator (the attempt timeout)', () => {
  it('keeps the configured minimum while round trips are short', () => {
    const r = new RttEstimator();
    expect(r.timeoutMs(250, 30_000)).toBe(250);
    for (let i = 0; i < 100; i++) r.sample(2);
    expect(r.timeoutMs(250, 30_000)).toBe(250);
  });

  it("grows with a loaded node's round trips, so queueing is not mistaken for loss", () => {
    const r = new RttEstimator();
    for (let i = 0; i < 50; i++) r.sample(400 + (i % 2) * 200);
    const t = r.timeoutMs(250, 30_000);
    expect(t).toBeGreaterThan(600);
    expect(t).toBeLessThan(2_000);
  });

  it('never exceeds the deadline, and comes back down when the load goes', () => {
    const r = new RttEstimator();
    r.sample(100_000);
    expect(r.timeoutMs(250, 30_000)).toBe(30_000);
    for (let i = 0; i < 200; i++) r.sample(1);
    expect(r.timeoutMs(250, 30_000)).toBe(250);
  });
});

describe('RttEstimator after timeouts', () => {
  it('keeps the timeout through the first loss (a failover), then doubles once per loss of attempts sent after it', () => {
    const r = new RttEstimator();
    for (let i = 0; i < 20; i++) r.sample(2);
    // Sixteen attempts sent at 0 all time out at 250 (a primary died): one loss, and the
    // retries go out with the same timeout.
    for (let i = 0; i < 16; i++) r.timedOut(0, 250);
    expect(r.timeoutMs(250, 30_000)).toBe(250);
    // A retry sent at 250 times out too: the node is slow (or still gone), so it doubles.
    r.timedOut(250, 500);
    expect(r.timeoutMs(250, 30_000)).toBe(500);
    // Attempts sent before that second loss belong to it: no second doubling.
    r.timedOut(300, 550);
    expect(r.timeoutMs(250, 30_000)).toBe(500);
    r.timedOut(500, 1_000);
    expect(r.timeoutMs(250, 30_000)).toBe(1_000);
    // At most 4x.
    for (let t = 1_000; t < 10_000; t += 1_000) r.timedOut(t, t + 1_000);
    expect(r.timeoutMs(250, 30_000)).toBe(1_000);
    // A measured reply brings it back.
    r.sample(2);
    expect(r.timeoutMs(250, 30_000)).toBe(250);
    // And the next loss is a first one again.
    r.timedOut(20_000, 20_250);
    expect(r.timeoutMs(250, 30_000)).toBe(250);
  });
});
