/**
 * This node's epoch record (epoch-store.ts) in memory and on disk: every change goes
 * through `save`, which runs the writes one at a time and puts the old record back
 * when one fails.
 */
import { noteEpoch, type ArbiterView } from './election';
import { EMPTY_EPOCH_RECORD, type EpochRecord, type EpochStorage } from './epoch-store';
import { recordAfterLog } from './log-epochs';

export class EpochKeeper {
  private current: EpochRecord = EMPTY_EPOCH_RECORD;
  /** Saves run one at a time, in order: two racing renames of one temp file would fail. */
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly storage: EpochStorage,
    private readonly fail: (err: Error) => void,
  ) {}

  get record(): EpochRecord {
    return this.current;
  }

  get epoch(): number {
    return this.current.epoch;
  }

  /**
   * The record on disk. A data dir found empty starts its record at once when `since` is
   * given (a paired node: the arbiter's epoch): later starts can then tell an epoch this
   * node won but never persisted (after `since`) from one a replaced dir may have served
   * in (up to `since`).
   */
  async loadAtStart(since: number | null): Promise<void> {
    const found = await this.storage.load();
    this.current = found ?? EMPTY_EPOCH_RECORD;
    if (found === null && since !== null) await this.save({ ...EMPTY_EPOCH_RECORD, since });
  }

  /**
   * Puts the epoch starts the log shows (and the record lacks) into the record, before
   * the node takes a role; returns the record it replaced, or null when nothing was lacking.
   */
  async catchUpWithLog(starts: readonly [number, number][], arbiter: ArbiterView, nodeId: string): Promise<EpochRecord | null> {
    const before = this.current;
    const next = recordAfterLog(before, starts, arbiter, nodeId);
    if (next === null) return null;
    await this.save(next);
    return before;
  }

  save(record: EpochRecord): Promise<void> {
    const before = this.current;
    this.current = record;
    const done = this.saving.then(() => this.storage.save(record));
    this.saving = done.catch(() => {
      // Not persisted: this node must not go on claiming an epoch its disk does not hold
      // (it would refuse its primary's lower-epoch messages and never follow again).
      if (this.current === record) this.current = before;
    });
    return done;
  }

  /**
   * A syncing node follows the primary of a higher epoch: it records that before taking
   * its records, as `syncing`: it holds only part of that epoch until it catches up.
   */
  async adopt(epoch: number, primary: string): Promise<void> {
    if (epoch <= this.current.epoch) return;
    await this.save({ ...this.current, epoch, role: 'syncing', primary });
  }

  /**
   * Caught up: from here on the primary acks nothing this node lacks, so its record may
   * say `standby`, which the election reads as "holds every update of this epoch".
   */
  noteCaughtUp(primary: string): void {
    const r = this.current;
    if (r.role === 'standby' && r.primary === primary) return;
    void this.save({ ...r, role: 'standby', primary }).catch(this.fail);
  }

  /** A replicated record of `epoch` at `seq` was applied: a first record of a new epoch is noted in the history. */
  noteApplied(epoch: number, seq: number): void {
    const r = this.current;
    const last = r.history[r.history.length - 1];
    if (last === undefined || last[0] < epoch) {
      // This log now holds a record of a new epoch: note where it began.
      void this.save({ ...r, epoch: Math.max(r.epoch, epoch), history: noteEpoch(r.history, epoch, seq) }).catch(this.fail);
    }
  }

  /**
   * The log failed: what this node acked on receipt exists only in this process, so its
   * record must stop vouching for the epoch (election.ts reads `standby` as "holds every
   * acknowledged update"), or a restart after the primary's disk is lost would serve
   * without them (sim seed 9977). Best effort: the same disk may refuse this too.
   */
  stopVouching(): void {
    const r = this.current;
    if (r.role === 'standby') void this.save({ ...r, role: 'syncing' }).catch(() => undefined);
  }
}
