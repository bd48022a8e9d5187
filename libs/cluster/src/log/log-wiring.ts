/**
 * The node's log writer and its fsync policy: records sealed into frames as they are
 * written, and the written and synced watermarks the reply gate and the standby's acks
 * follow. A writer is opened after every recovery, rollback and snapshot install.
 */
import type { Clock } from '@txtest/actors';
import { FRAME_OVERHEAD_BYTES, LogWriter, sealFrame, type LogStorage } from '@txtest/journal';
import { writeRecord, type MsgWriter, type UpdateRequest } from '@txtest/protocol';
import { SyncPolicy, type FsyncPolicy } from './durability';

export interface LogWiringDeps {
  storage: LogStorage;
  clock: Clock;
  fsync: FsyncPolicy;
  segmentBytesMax: number;
  /** The records' writer: each frame is written and taken within one call. */
  w: MsgWriter;
  /** The reply gate's watermark may have moved. */
  release(): void;
  /** After each written group (background snapshots start from here). */
  afterWritten(): void;
  /** A real fsync reached `seq` (`--ack logged` acks it). */
  onSynced(seq: number): void;
  /** A writer was opened with `lastSeq` durable. */
  onOpened(lastSeq: number): void;
  fail(err: unknown): void;
}

export class LogWiring {
  private writer: LogWriter | null = null;
  private sync: SyncPolicy | null = null;
  writtenSeq = 0;
  syncedSeq = 0;

  constructor(private readonly d: LogWiringDeps) {}

  open(lastSeq: number, lastEpoch: number): void {
    const { d } = this;
    this.writtenSeq = lastSeq;
    this.syncedSeq = lastSeq;
    // What recovery kept, or a snapshot just installed, is durable: `--ack logged` may ack it.
    d.onOpened(lastSeq);
    const writer = new LogWriter({
      storage: d.storage,
      lastSeq,
      lastEpoch,
      segmentBytesMax: d.segmentBytesMax,
      // The group is written right after the turns that filled it (a microtask after the
      // drain), not one event-loop iteration later: the turns of a drain are the group.
      defer: queueMicrotask,
      onWritten: (seq) => {
        this.writtenSeq = seq;
        this.policy.onWritten();
        if (!this.policy.gateOnSync) d.release();
        d.afterWritten();
      },
      // A real fsync: it opens the gate with `--fsync always`, and is what `--ack logged` waits for.
      onSynced: (seq) => {
        this.syncedSeq = seq;
        d.onSynced(seq);
        if (this.policy.gateOnSync) d.release();
      },
      onError: (err) => d.fail(err),
    });
    this.writer = writer;
    this.sync?.stop();
    this.sync = new SyncPolicy(d.fsync, writer, d.clock, (err) => d.fail(err));
  }

  /** The writer; the log is open from the end of recovery on (and again after each rollback or install). */
  private get log(): LogWriter {
    if (this.writer === null) throw new Error('the log is not open yet: recovery has not finished');
    return this.writer;
  }

  private get policy(): SyncPolicy {
    if (this.sync === null) throw new Error('the fsync policy is not set yet: recovery has not finished');
    return this.sync;
  }

  /** The local log's watermark for the reply gate: synced with `--fsync always`, else written. */
  localMark(): number {
    return this.policy.gateOnSync ? this.syncedSeq : this.writtenSeq;
  }

  /** A primary's turn: the record is written straight into its frame (one buffer, no copy). */
  appendTurn(epoch: number, seq: number, ts: number, req: UpdateRequest, model: string): Uint8Array {
    const w = this.d.w;
    w.reserve(FRAME_OVERHEAD_BYTES);
    writeRecord(w, ts, req.id, req.asset, model, req.op, req.args);
    const frame = sealFrame(w.take(), epoch, seq);
    this.log.append(frame);
    return frame;
  }

  /** A frame as it came (a standby appends its primary's frames unchanged). */
  append(frame: Uint8Array): void {
    this.log.append(frame);
  }

  /** Everything appended is written and synced. */
  async durable(): Promise<void> {
    await this.log.idle();
    await this.log.sync();
  }

  idle(): Promise<void> {
    return this.log.idle();
  }

  truncateAfter(seq: number): Promise<void> {
    return this.log.truncateAfter(seq);
  }

  close(): Promise<void> {
    return this.log.close();
  }

  /** On stop: written, synced and closed; `release` runs between the sync and the close. */
  async closeForStop(release: () => void): Promise<void> {
    const writer = this.writer;
    if (writer === null) return;
    await writer.idle();
    await writer.sync();
    release();
    this.sync?.stop();
    await writer.close();
  }
}
