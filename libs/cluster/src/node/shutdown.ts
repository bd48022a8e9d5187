/**
 * A clean stop: no more updates, every pending reply let out once logged, the log
 * closed. A primary with a live standby hands over first (waits, bounded, for the
 * standby's acks, then tells it to take over at once instead of after missed heartbeats).
 */
import type { Processor, RoleEvent, RoleState } from '@txtest/actors';
import type { EpochKeeper } from '../epochs/epoch-keeper';
import type { LogWiring } from '../log/log-wiring';
import type { PairSession } from '../pair/pair-session';
import type { Admission } from '../serving/admission';
import type { ReplyGate } from '../serving/reply-gate';
import type { Serving } from '../serving/serving';
import type { Subscription } from '../transport';
import type { ResolvedOptions } from './options';

export interface ShutdownDeps {
  o: ResolvedOptions;
  processor: Processor;
  epochs: EpochKeeper;
  wiring: LogWiring;
  serving: Serving;
  admission: Admission;
  gate: ReplyGate;
  pair: PairSession | null;
  /** The node's own subscriptions (status). */
  subs: Subscription[];
  role(): RoleState;
  send(event: RoleEvent): void;
}

export class Shutdown {
  private stopped: Promise<void> | null = null;
  private resolveStopped: (() => void) | null = null;
  /** A primary with a live standby hands over on SIGTERM instead of just leaving. */
  private handingOver = false;

  constructor(private readonly d: ShutdownDeps) {}

  /** The stop has run to its end (the heartbeats stop too). */
  get finished(): boolean {
    return this.stopped !== null && this.resolveStopped === null;
  }

  /** Stops taking updates, lets every pending reply out once logged, and closes the log. */
  stop(): Promise<void> {
    if (this.stopped === null) {
      this.handingOver = this.d.role() === 'primary' && this.d.pair?.replicator.mode === 'live';
      this.stopped = new Promise<void>((resolve) => (this.resolveStopped = resolve));
      this.d.send({ type: 'STOP', reason: 'shutdown requested' });
    }
    return this.stopped;
  }

  /** The role machine's `enterStopping`. */
  async run(): Promise<void> {
    const { d } = this;
    try {
      d.serving.closeDoor();
      d.admission.setAccepting(false, 'stopping');
      // Updates admitted before this point still get their turn (deferred), then the log settles.
      await new Promise<void>((resolve) => d.o.defer(resolve));
      if (this.handingOver && d.pair !== null) await this.handOver(d.pair);
      await d.wiring.closeForStop(() => {
        if (d.gate.mode === 'local') d.processor.release(d.wiring.writtenSeq);
      });
      d.pair?.stop();
      for (const s of d.subs.splice(0)) s.unsubscribe();
      await d.o.transport.flush();
    } finally {
      d.send({ type: 'STOPPED' });
      this.resolveStopped?.();
      this.resolveStopped = null;
    }
  }

  /**
   * Planned switch-over: wait (bounded) until the standby has acknowledged every record,
   * let those replies out, then tell it to take over at once instead of waiting for
   * missed heartbeats. Clients see only the short gap of its promotion.
   */
  private async handOver(pair: PairSession): Promise<void> {
    const { o, processor } = this.d;
    const target = processor.lastSeq;
    const acked = await pair.standbyAcked(target);
    processor.release(Math.min(acked, this.d.wiring.writtenSeq));
    if (acked >= target) {
      pair.handOver(this.d.epochs.epoch, target);
      o.log.info({ lastSeq: target, standby: o.peerId }, 'handed over to the standby');
    } else {
      o.log.warn(
        { lastSeq: target, acked },
        'the standby did not acknowledge everything in time: leaving without a handover (it takes over after missed heartbeats)',
      );
    }
  }
}
