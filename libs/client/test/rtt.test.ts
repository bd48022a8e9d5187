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
  it('doubles the wait once per loss, not once per attempt lost with it, until a reply is measured again', () => {
    const r = new RttEstimator();
    for (let i = 0; i < 20; i++) r.sample(2);
    const t = r.timeoutMs(250, 30_000);
    // Sixteen attempts sent with the same timeout all time out (a primary died): one doubling.
    for (let i = 0; i < 16; i++) r.timedOut(t);
    expect(r.timeoutMs(250, 30_000)).toBe(500);
    r.timedOut(500);
    expect(r.timeoutMs(250, 30_000)).toBe(1_000);
    for (let i = 0; i < 10; i++) r.timedOut(r.timeoutMs(250, 30_000));
    expect(r.timeoutMs(250, 30_000)).toBe(1_000);
    r.sample(2);
    expect(r.timeoutMs(250, 30_000)).toBe(250);
  });
});
