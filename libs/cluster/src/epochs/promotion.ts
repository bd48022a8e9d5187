/**
 * Opening a new epoch: persisted (and, with an arbiter, won by compare-and-set) before
 * the node serves anything in it (docs/PAIR.md rule 1). Also what negotiation
 * leaves for the promotion: the arbiter value it weighed, and an operator's force.
 */
import type { Clock, Processor, RoleEvent } from '@txtest/actors';
import type { FaultBehaviours } from '../faults';
import type { LogWiring } from '../log/log-wiring';
import type { Admission } from '../serving/admission';
import type { Logger } from '../transport';
import type { Arbiter, ArbiterRead, ArbiterValue } from './arbiter';
import { noteEpoch } from './election';
import type { EpochKeeper } from './epoch-keeper';
import type { EpochRecord } from './epoch-store';

export interface PromotionDeps {
  nodeId: string;
  arbiter: Arbiter | null;
  processor: Processor;
  admission: Admission;
  epochs: EpochKeeper;
  wiring: Pick<LogWiring, 'durable'>;
  faults: FaultBehaviours;
  clock: Clock;
  log: Logger;
  /** Calls `fn` once the reply gate has committed `seq` (the first update of a new epoch). */
  whenReleased(seq: number, fn: () => void): void;
  /** The epoch the peer last said it was in (0 when none). */
  peerEpoch(): number;
  /** Why the node failed, or null. */
  failed(): Error | null;
  fail(err: unknown): void;
  send(event: RoleEvent): void;
}

type Outcome = { epoch: number } | { refused: string };

/**
 * How long a promotion keeps asking an arbiter that does not answer (a timeout, no
 * leader) before it gives up. A replicated bucket elects a new leader within a few
 * seconds of losing the server that led it, which is often when the primary died too
 * (the same machine); giving up at the first timeout left the standby waiting for an
 * operator. A refusal (a lost compare-and-set) is an answer and is never retried.
 */
export const ARBITER_RETRY_MS = 10_000;
const ARBITER_RETRY_PAUSE_MS = 100;

/** What negotiation leaves for the promotion that follows it. */
export interface ElectionNotes {
  /** The arbiter as last read, with its revision (negotiation weighs the value). */
  arbiterRead: ArbiterRead | null;
  /** Its value (null also when never read). */
  readonly arbiterView: ArbiterValue | null;
  /** The arbiter value the election that made this node primary weighed. */
  electedOver: ArbiterValue | null;
  /** The operator's --force-primary decided this promotion. */
  forcing: boolean;
}

export class Promotion implements ElectionNotes {
  /**
   * The arbiter as last read or written by this node. A promotion tries its
   * compare-and-set on this revision first: when that succeeds, the key had not changed,
   * so the value judged is the current one, and the failover saved a round trip.
   */
  arbiterRead: ArbiterRead | null = null;
  /**
   * The arbiter value the election that made this node primary weighed: the promotion
   * may open an epoch over it (the election already judged that epoch), not over a newer one.
   */
  electedOver: ArbiterValue | null = null;
  /** The operator's --force-primary decided this promotion: it overrides the arbiter's record, once. */
  forcing = false;
  /** Times this node took over as primary (for metrics). */
  promotions = 0;

  constructor(private readonly d: PromotionDeps) {}

  get arbiterView(): ArbiterValue | null {
    return this.arbiterRead?.value ?? null;
  }

  /** The role machine's `openEpoch`: ends in EPOCH_OPENED or PROMOTION_FAILED. */
  async open(): Promise<void> {
    const { d } = this;
    try {
      d.admission.setAccepting(false, 'opening a new epoch');
      // A node whose log failed holds state it could not write: serving a new epoch on it
      // would make the peer follow (and, after a restart, lose) what only its memory had.
      const failed = d.failed();
      if (failed !== null) return d.send({ type: 'PROMOTION_FAILED', reason: `the log failed: ${failed.message}` });
      // Let admitted updates take their turns in the old epoch before the new one begins.
      await new Promise<void>((resolve) => queueMicrotask(resolve));
      // The new epoch builds on every record this node holds, some perhaps only received
      // (a standby acks on receipt): they must be in its log, durably, before it claims the
      // epoch at the arbiter, whose word outlives this process: a crash after the claim must
      // not leave the named primary without updates already acked.
      const t0 = d.clock.now();
      await d.wiring.durable();
      const t1 = d.clock.now();
      const prev = d.epochs.record;
      const outcome = await this.claim(prev, Math.max(prev.epoch, d.peerEpoch()) + 1);
      if ('refused' in outcome) return d.send({ type: 'PROMOTION_FAILED', reason: outcome.refused });
      const t2 = d.clock.now();
      await this.record(prev, outcome.epoch);
      // Each step's share of the failover time (the detection is heartbeat-missed x interval).
      const opened = d.clock.now();
      d.log.info({ epoch: outcome.epoch, logSyncMs: t1 - t0, arbiterMs: t2 - t1, recordMs: opened - t2 }, 'epoch opened');
      // The takeover's last share: from serving to the first update of the epoch committed
      // (a node that stalls under the clients' burst shows here, not in the steps above).
      const first = d.processor.lastSeq + 1;
      d.whenReleased(first, () => d.log.info({ epoch: outcome.epoch, seq: first, ms: d.clock.now() - opened }, 'first update of the new epoch committed'));
      d.send({ type: 'EPOCH_OPENED', epoch: outcome.epoch });
    } catch (err) {
      d.send({ type: 'PROMOTION_FAILED', reason: `cannot open a new epoch: ${(err as Error).message}` });
    }
  }

  /** Runs an arbiter operation again while it fails (not refuses), for up to ARBITER_RETRY_MS. */
  private async untilAnswered<T>(op: () => Promise<T>): Promise<T> {
    const { d } = this;
    const deadline = d.clock.now() + ARBITER_RETRY_MS;
    for (;;) {
      try {
        return await op();
      } catch (err) {
        if (d.clock.now() >= deadline || d.failed() !== null) throw err;
        d.log.warn({ err: (err as Error).message }, 'the arbiter did not answer: asking again');
        await new Promise<void>((resolve) => d.clock.setTimeout(resolve, ARBITER_RETRY_PAUSE_MS));
      }
    }
  }

  /** With an arbiter, wins `epoch` (or a higher one) by compare-and-set; without, takes it. */
  private async claim(prev: EpochRecord, epoch: number): Promise<Outcome> {
    const { d } = this;
    if (d.arbiter === null) return { epoch };
    // The operator's force overrides the arbiter's record of the lost peer (once: later
    // promotions of this process obey the arbiter again).
    const forced = this.forcing;
    this.forcing = false;
    const weighed = this.electedOver;
    this.electedOver = null;
    const cached = this.arbiterRead;
    const arbiter = d.arbiter;
    let r = cached ?? (this.arbiterRead = await this.untilAnswered(() => arbiter.read()));
    for (;;) {
      const judged = weighed !== null && r.value !== null && weighed.epoch === r.value.epoch && weighed.primary === r.value.primary;
      if (r.value !== null && r.value.epoch > prev.epoch && r.value.primary !== d.nodeId && !forced && !judged) {
        return { refused: `the arbiter holds epoch ${r.value.epoch} by ${r.value.primary}` };
      }
      const won = Math.max(epoch, (r.value?.epoch ?? 0) + 1);
      // Where the epoch begins goes with it, so a node lacking it can name what it lacks.
      const value = { epoch: won, primary: d.nodeId, firstSeq: d.processor.lastSeq + 1 };
      const revision = r.revision;
      const cas = await this.untilAnswered(() => arbiter.compareAndSet(revision, value));
      if (cas.ok) {
        this.arbiterRead = { value, revision: cas.revision };
        return { epoch: won };
      }
      this.arbiterRead = cas.current;
      // A stale cached read loses the compare-and-set: judge what is there now, once.
      if (r !== cached) break;
      r = cas.current;
    }
    const v = this.arbiterRead.value;
    return { refused: `lost the arbiter's compare-and-set to ${v ? `${v.primary} in epoch ${v.epoch}` : 'another writer'}` };
  }

  /**
   * The won epoch goes into the epoch record, then the processor stamps its turns with it.
   * With an arbiter the node serves while the save is under way: the arbiter names it in
   * exactly this epoch, so after a crash its log's records of the epoch are proof enough
   * that it was their primary (log-epochs.ts), and the failover waits for no flush of its
   * own. Without an arbiter the record is the only word on who opened the epoch: saved first.
   */
  private async record(prev: EpochRecord, epoch: number): Promise<void> {
    const { d } = this;
    const firstSeq = d.processor.lastSeq + 1;
    if (prev.primary !== d.nodeId) d.faults.onTakeOver(d.processor);
    // A node that cannot keep its epoch record must not go on to follow, and ack, the
    // old primary (the arbiter, if any, names it in the new epoch now): it fails.
    const saved = d.epochs.save({ ...prev, epoch, role: 'primary', primary: d.nodeId, history: noteEpoch(prev.history, epoch, firstSeq) });
    if (d.arbiter !== null) saved.catch((err: unknown) => d.fail(err));
    else {
      try {
        await saved;
      } catch (err) {
        d.fail(err);
        throw err;
      }
    }
    d.admission.setEpoch(epoch, 'opened a new epoch');
    this.promotions++;
  }
}
