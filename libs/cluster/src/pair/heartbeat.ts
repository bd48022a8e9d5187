/**
 * The heartbeat timer and what it sees of this node's own event loop: the timer runs
 * every interval, so an overdue run means the loop was blocked (GC, a large snapshot)
 * and the peer's messages may be unread. That is the `peerSilent` guard's evidence, the
 * lateness in stats, and a log line when a stall eats into the peer timeout.
 */
import type { Clock, TimerHandle } from '@txtest/actors';
import type { Logger } from '../transport';

/** The heartbeat lateness in stats covers the last one to two of these windows. */
export const STALL_WINDOW_MS = 5_000;

export interface HeartbeatDeps {
  clock: Clock;
  log: Logger;
  intervalMs: number;
  missed: number;
  /** The role, for the stall log line. */
  role(): string;
  /** The work of one beat (send it, repeat acks, retry a join); false when the node has stopped. */
  onBeat(now: number): boolean;
}

export class Heartbeat {
  private timer: TimerHandle | null = null;
  /** When the heartbeat timer last ran (a stalled event loop shows as an overdue beat). */
  private lastBeatAt = 0;
  /** When an overdue beat last showed a stalled event loop. */
  private lastStallAt = Number.NEGATIVE_INFINITY;
  /** The timer's lateness, worst of the current and the previous window (see STALL_WINDOW_MS). */
  private lateMs = 0;
  private latePrevMs = 0;
  private lateWindowAt = 0;

  constructor(private readonly d: HeartbeatDeps) {}

  /** Missed heartbeats after which the peer counts as gone. */
  get peerTimeoutMs(): number {
    return this.d.intervalMs * this.d.missed;
  }

  start(): void {
    this.lastBeatAt = this.d.clock.now();
    this.schedule();
  }

  stop(): void {
    if (this.timer !== null) this.d.clock.clearTimeout(this.timer);
  }

  /** The role machine's guard: the peer's silence is real only if this node's own loop ran on time lately. */
  peerSilent(): boolean {
    const now = this.d.clock.now();
    return now - this.lastBeatAt <= 1.5 * this.d.intervalMs && now - this.lastStallAt > this.d.intervalMs;
  }

  /** The worst lateness over the last one to two windows. */
  lateMaxMs(): number {
    return Math.max(this.lateMs, this.latePrevMs);
  }

  private schedule(): void {
    this.timer = this.d.clock.setTimeout(() => {
      const now = this.d.clock.now();
      this.noteLateness(now);
      this.lastBeatAt = now;
      if (this.d.onBeat(now)) this.schedule();
    }, this.d.intervalMs);
  }

  private noteLateness(now: number): void {
    const { d } = this;
    // A beat far behind its schedule means this node's event loop stalled just now.
    if (now - this.lastBeatAt > 1.5 * d.intervalMs) this.lastStallAt = now;
    const lateMs = now - this.lastBeatAt - d.intervalMs;
    if (now - this.lateWindowAt >= STALL_WINDOW_MS) {
      this.latePrevMs = this.lateMs;
      this.lateMs = 0;
      this.lateWindowAt = now;
    }
    if (lateMs > this.lateMs) this.lateMs = lateMs;
    // Worth a warning: half the peer timeout is where a busy primary starts to look
    // dead. A quarter is logged too (info), so the stalls that eat the margin are seen.
    if (lateMs > this.peerTimeoutMs / 4) {
      const line = `event loop stalled: the heartbeat ran ${Math.round(lateMs)} ms late`;
      if (lateMs > this.peerTimeoutMs / 2) d.log.warn({ lateMs: Math.round(lateMs), role: d.role() }, line);
      else d.log.info({ lateMs: Math.round(lateMs), role: d.role() }, line);
    }
  }
}
