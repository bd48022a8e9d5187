/**
 * The reply gate's watermark: solo, the local log (written, or synced with `--fsync
 * always`); primary with a standby, the lower of that and the standby's acknowledged
 * watermark. So an `ok` never reveals an update the standby (or the log) lacks. Between
 * roles the gate holds: what is pending stays (a new epoch may still confirm it) but
 * nothing is released.
 */
import type { Processor } from '@txtest/actors';
import type { Logger } from '../transport';

export type GateMode = 'local' | 'standby' | 'hold';

export interface ReplyGateDeps {
  processor: Processor;
  log: Logger;
  /** The local log's watermark (written or synced, per the fsync policy). */
  localMark(): number;
  /** The standby's acknowledged seq (only read in 'standby' mode). */
  standbyAck(): number;
  /** The highest seq a reply may reveal while a joiner takes the tail (Infinity otherwise); see Replicator.catchUpCap. */
  catchUpCap(): number;
  /** False only under the test-only fault `reply-before-standby-ack`. */
  waitsForStandby: boolean;
  /** `--reply-from standby`: with a standby attached, the standby publishes the replies. */
  repliesFromStandby: boolean;
}

export class ReplyGate {
  private current: GateMode = 'hold';
  /** A caller waiting for the watermark to reach a seq (see `whenReleased`). */
  private waiting: { seq: number; fn: () => void } | null = null;

  constructor(private readonly d: ReplyGateDeps) {}

  get mode(): GateMode {
    return this.current;
  }

  /** Changes where replies come from; logged like a role change. */
  setMode(mode: GateMode, reason: string): void {
    const from = this.current;
    if (from === mode) return;
    this.current = mode;
    // The outcomes go to the standby at their turns, which publishes them once it holds
    // the records; the release still commits them (views, events, the dedupe rows).
    this.d.processor.replyOnApply = this.d.repliesFromStandby && mode === 'standby';
    this.d.log.info({ from, to: mode, reason }, `reply gate: ${from} -> ${mode}`);
  }

  /** Releases every reply the watermark covers right now. */
  release(): void {
    if (this.current === 'hold') return;
    const local = this.d.localMark();
    const withStandby = this.current === 'standby' && this.d.waitsForStandby;
    this.d.processor.release(withStandby ? Math.min(local, this.d.standbyAck()) : Math.min(local, this.d.catchUpCap()));
    const w = this.waiting;
    if (w !== null && this.d.processor.committedSeq >= w.seq) {
      this.waiting = null;
      w.fn();
    }
  }

  /** Calls `fn` once, from the release that commits `seq` (one waiter: a later call replaces it). */
  whenReleased(seq: number, fn: () => void): void {
    this.waiting = { seq, fn };
  }
}
