import { describe, expect, it } from 'vitest';
import { PROBE_FLOOR_MS, RttEstimator } from '../src/rtt';

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
  it('keeps the timeout through the first loss, then doubles once per loss of attempts sent after it while the node still answers', () => {
    const r = new RttEstimator();
    for (let i = 0; i < 20; i++) r.sample(2);
    // Sixteen attempts sent at 0 all time out at 250: one loss, and the retries go out
    // with the same timeout.
    for (let i = 0; i < 16; i++) r.timedOut(0, 250);
    r.replied(260); // other attempts are answered: the node is slow, not gone
    expect(r.timeoutMs(250, 30_000)).toBe(250);
    // A retry sent at 250 times out too: the node is too slow for it, so it doubles.
    r.timedOut(250, 500);
    r.replied(510);
    expect(r.timeoutMs(250, 30_000)).toBe(500);
    // Attempts sent before that second loss belong to it: no second doubling.
    r.timedOut(300, 550);
    expect(r.timeoutMs(250, 30_000)).toBe(500);
    r.timedOut(500, 1_000);
    r.replied(1_010);
    expect(r.timeoutMs(250, 30_000)).toBe(1_000);
    // At most 4x.
    for (let t = 1_000; t < 10_000; t += 1_000) {
      r.timedOut(t, t + 1_000);
      r.replied(t + 1_010);
    }
    expect(r.timeoutMs(250, 30_000)).toBe(1_000);
    // A measured reply brings it back.
    r.sample(2);
    expect(r.timeoutMs(250, 30_000)).toBe(250);
    // And the next loss is a first one again: nothing has answered since it began, so
    // its retries probe at the round trip (see below).
    r.timedOut(20_000, 20_250);
    expect(r.timeoutMs(250, 30_000)).toBe(PROBE_FLOOR_MS);
    r.replied(20_260);
    expect(r.timeoutMs(250, 30_000)).toBe(250);
  });
});

describe('RttEstimator while nothing answers (a primary just died)', () => {
  it('retries after the measured round trip, not the floor, and never doubles, until any reply comes', () => {
    const r = new RttEstimator();
    for (let i = 0; i < 20; i++) r.sample(2);
    r.replied(0);
    // The primary dies: everything in flight times out at 100 and nothing answers since.
    r.timedOut(0, 100);
    expect(r.timeoutMs(100, 30_000)).toBe(PROBE_FLOOR_MS);
    // Its retries vanish into the dead primary's socket: still silent, no doubling.
    for (let t = 100; t < 300; t += PROBE_FLOOR_MS) r.timedOut(t, t + PROBE_FLOOR_MS);
    expect(r.timeoutMs(100, 30_000)).toBe(PROBE_FLOOR_MS);
    // The new primary answers a retry: the floor is back, and a later loss is judged as before.
    r.replied(310);
    expect(r.timeoutMs(100, 30_000)).toBe(100);
    r.timedOut(320, 420);
    r.replied(425);
    expect(r.timeoutMs(100, 30_000)).toBe(200);
  });

  it('waits the smoothed round trip when it is longer than the probe floor (no variance term), and a configured floor below it', () => {
    const r = new RttEstimator();
    for (let i = 0; i < 50; i++) r.sample(30 + (i % 2) * 20);
    const loaded = r.timeoutMs(25, 30_000);
    r.timedOut(0, 250);
    const probe = r.timeoutMs(250, 30_000);
    expect(probe).toBeGreaterThan(35);
    expect(probe).toBeLessThan(45);
    expect(probe).toBeLessThan(loaded);
    const fresh = new RttEstimator();
    fresh.timedOut(0, 5);
    expect(fresh.timeoutMs(5, 30_000)).toBe(5);
  });
});

describe('RttEstimator back-off between retries', () => {
  it('doubles per attempt while a node answers, and grows with the silence, not the attempts, while nothing does', () => {
    const r = new RttEstimator();
    for (let i = 0; i < 20; i++) r.sample(2);
    r.replied(0);
    // A live node refuses (NOT_PRIMARY, OVERLOADED): the usual doubling per attempt.
    expect(r.backoffMs('NOT_PRIMARY', 1, 10, 5, 100)).toBe(5);
    expect(r.backoffMs('NOT_PRIMARY', 5, 10, 5, 100)).toBe(80);
    // No primary is subscribed: the fifth no-responders of a job 160 ms into a failover
    // waits a sixteenth of the silence (10 ms), not 80 ms after four doublings.
    expect(r.backoffMs('no-responders', 5, 160, 5, 100)).toBe(10);
    expect(r.backoffMs('no-responders', 9, 40, 5, 100)).toBe(5);
    // A long outage reaches the maximum.
    expect(r.backoffMs('no-responders', 2, 60_000, 5, 100)).toBe(100);
    // A timeout of a silent cluster counts its silence; one of a node that still answers
    // others is a slow node: per attempt.
    r.timedOut(0, 100);
    expect(r.backoffMs('timeout', 6, 240, 5, 100)).toBe(15);
    r.replied(250);
    expect(r.backoffMs('timeout', 6, 260, 5, 100)).toBe(100);
  });
});

describe('RttEstimator after "no responders"', () => {
  it('stops probing at the round trip once nothing was subscribed: a later timeout is a slow new primary, not a dead connection', () => {
    const r = new RttEstimator();
    for (let i = 0; i < 20; i++) r.sample(2);
    r.replied(0);
    // The primary dies; its connection lingers and swallows attempts: probe.
    r.timedOut(0, 100);
    expect(r.timeoutMs(100, 30_000)).toBe(PROBE_FLOOR_MS);
    // Its connection closes: the server answers "no responders" while the standby takes over.
    r.noResponders(150);
    expect(r.timeoutMs(100, 30_000)).toBe(100);
    // The new primary subscribes and is slow to answer the first burst: its timeouts
    // double like any slow node's, and the back-off is per attempt again.
    r.timedOut(160, 260);
    expect(r.timeoutMs(100, 30_000)).toBe(200);
    expect(r.backoffMs('timeout', 4, 260, 5, 100)).toBe(40);
    // It answers: the next outage probes again.
    r.sample(2);
    r.replied(300);
    r.timedOut(300, 400);
    expect(r.timeoutMs(100, 30_000)).toBe(PROBE_FLOOR_MS);
  });
});
