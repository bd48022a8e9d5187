/**
 * The heartbeat timer and its stall detection on a hand-moved clock: beats on schedule,
 * the `peerSilent` veto after an overdue beat, the lateness in stats over its windows,
 * and the log lines at a quarter and a half of the peer timeout.
 */
import { describe, expect, it } from 'vitest';
import { Heartbeat, STALL_WINDOW_MS } from '../src/pair/heartbeat';
import { lineLogger, ManualClock } from './helpers/manual-clock';

function harness(intervalMs = 50, missed = 4) {
  const clock = new ManualClock();
  const lines: string[] = [];
  const beats: number[] = [];
  let running = true;
  const hb = new Heartbeat({
    clock,
    log: lineLogger(lines),
    intervalMs,
    missed,
    role: () => 'primary',
    onBeat: (now) => {
      beats.push(now);
      return running;
    },
  });
  return { clock, lines, beats, hb, stopRunning: () => (running = false) };
}

/** Right after a beat: the event loop is blocked so that the next beat runs `ms` late. */
function stall(h: ReturnType<typeof harness>, ms: number): void {
  h.clock.block(50 + ms);
  h.clock.advance(0);
}

describe('heartbeat', () => {
  it('beats every interval until onBeat says the node stopped', () => {
    const h = harness();
    h.hb.start();
    h.clock.advance(200);
    expect(h.beats).toEqual([50, 100, 150, 200]);
    h.stopRunning();
    h.clock.advance(50);
    expect(h.beats).toHaveLength(5);
    expect(h.clock.pending).toBe(0);
  });

  it('stop cancels the next beat', () => {
    const h = harness();
    h.hb.start();
    h.clock.advance(50);
    h.hb.stop();
    h.clock.advance(500);
    expect(h.beats).toEqual([50]);
  });

  it("lets the peer's silence count only while its own loop runs on time", () => {
    const h = harness();
    h.hb.start();
    h.clock.advance(100);
    expect(h.hb.peerSilent()).toBe(true);
    // A beat 120 ms late (more than 1.5 intervals after the last): this node was stalled.
    stall(h, 120);
    expect(h.hb.peerSilent()).toBe(false);
    // One interval after the stall the veto is over, the beats being on time again.
    h.clock.advance(50);
    expect(h.hb.peerSilent()).toBe(false);
    h.clock.advance(1);
    expect(h.hb.peerSilent()).toBe(true);
  });

  it('vetoes while a beat is overdue right now (the timer has not run yet)', () => {
    const h = harness();
    h.hb.start();
    h.clock.advance(50);
    h.clock.block(76);
    expect(h.hb.peerSilent()).toBe(false);
  });

  it('reports the worst lateness of the current and the previous window', () => {
    const h = harness();
    h.hb.start();
    stall(h, 30);
    expect(h.hb.lateMaxMs()).toBe(30);
    h.clock.advance(STALL_WINDOW_MS);
    // A new window began: the 30 ms is still the previous window's worst.
    expect(h.hb.lateMaxMs()).toBe(30);
    h.clock.advance(STALL_WINDOW_MS);
    expect(h.hb.lateMaxMs()).toBe(0);
  });

  it('logs a stall past a quarter of the peer timeout at info, past a half at warn', () => {
    const h = harness();
    h.hb.start();
    h.clock.advance(50);
    stall(h, 40);
    expect(h.lines).toEqual([]);
    stall(h, 60);
    expect(h.lines).toHaveLength(1);
    expect(h.lines[0]).toMatch(/^info event loop stalled: the heartbeat ran 60 ms late/);
    stall(h, 110);
    expect(h.lines[1]).toMatch(/^warn event loop stalled: the heartbeat ran 110 ms late .*"role":"primary"/);
  });

  it('names the peer timeout as missed beats times the interval', () => {
    expect(harness(20, 5).hb.peerTimeoutMs).toBe(100);
  });
});
