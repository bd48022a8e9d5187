/** Replication lag in time, from sampled seqs: the age of the oldest record the follower lacks. */
import { describe, expect, it } from 'vitest';
import { LagTracker } from '../src/metrics';

describe('LagTracker', () => {
  it('is zero when the follower holds everything, and ages the oldest missing record', () => {
    const lag = new LagTracker(8);
    lag.sample(1000, 10, 10);
    expect([lag.lagSeq, lag.lagMs]).toEqual([0, 0]);
    lag.sample(1050, 12, 10); // seq 11 first seen at 1050
    lag.sample(1100, 15, 10);
    expect([lag.lagSeq, lag.lagMs]).toEqual([5, 50]);
    lag.sample(1150, 15, 12); // 13 first existed at 1100
    expect([lag.lagSeq, lag.lagMs]).toEqual([3, 50]);
    lag.sample(1200, 15, 15);
    expect([lag.lagSeq, lag.lagMs]).toEqual([0, 0]);
  });

  it('reports no lag without a stream, and bounds its memory', () => {
    const lag = new LagTracker(4);
    lag.sample(0, 5, null);
    expect(lag.lagSeq).toBeNaN();
    for (let t = 1; t <= 10; t++) lag.sample(t * 10, 100 + t, 0);
    // Older samples are gone: the lag is at least the ring's span, from its oldest sample.
    expect(lag.lagMs).toBe(30);
  });

  it('reads a primary with a live standby, and a standby following its primary', () => {
    const lag = new LagTracker();
    const base = {
      epoch: 1,
      writtenSeq: 0,
      syncedSeq: 0,
      peerSilenceMs: 5,
      heartbeatIntervalMs: 50,
      heartbeatMissed: 4,
      inflight: 0,
      mailboxDepthMax: 0,
      assets: 0,
      dedupeIds: 0,
      promotions: 0,
      syncs: null,
      chainReplies: null,
      failed: false,
      beatLateMaxMs: 0,
      nodeMessagesRejected: null,
      errors: {},
      snapshot: { seq: 0, writtenAtMs: null, writeMs: null },
    };
    lag.sampleStats(0, { ...base, role: 'primary', lastSeq: 20, committedSeq: 18, standbyAckSeq: 18, peerLastSeq: 18 });
    expect([lag.side, lag.lagSeq]).toEqual(['primary', 2]);
    lag.sampleStats(10, { ...base, role: 'standby', lastSeq: 18, committedSeq: 18, standbyAckSeq: null, peerLastSeq: 21 });
    expect([lag.side, lag.lagSeq]).toEqual(['standby', 3]);
    lag.sampleStats(20, { ...base, role: 'solo', lastSeq: 30, committedSeq: 30, standbyAckSeq: null, peerLastSeq: null });
    expect(lag.side).toBeNull();
  });
});
