/**
 * LogWriter: appends encoded frames to segment files with group commit.
 *
 * Group commit: `append()` only queues the frame and, if no flush is pending, asks the
 * injected `defer` to run one soon. A flush writes every queued frame with a single
 * `AppendHandle.append(chunks)` (one writev), and only one write is in flight at a time;
 * frames that arrive while it runs form the next group. Under load this turns thousands
 * of updates into a handful of system calls without adding latency when idle.
 *
 * Durability is driven by the caller: `sync()` fdatasyncs what has been written so far
 * and then reports it through `onSynced`. A node with an "always" policy calls `sync()`
 * from `onWritten`; one with a periodic policy calls it from its own timer. The writer
 * itself never reads a clock, which keeps it deterministic under simulation.
 *
 * Segments are named `<firstSeq, 16 digits>.log`. A group that would push the current
 * segment past `segmentBytesMax` goes to a new segment instead (the old one is synced
 * and closed first, so only the newest segment can ever have a torn tail). A single
 * group larger than the limit still goes into one segment, so the limit is soft.
 *
 * After a restart the writer never appends to a segment that existed before: its first
 * group opens the segment named after that group's first seq. The old newest segment
 * may end below the snapshot's seq (a snapshot taken ahead of the log), and appending
 * to it would put a seq gap inside one file; a fresh file keeps "one segment = one run
 * of consecutive seqs" true in every case, and a gap between segments that the snapshot
 * covers is fine for recovery.
 */
import { JournalCorruptError, JournalFailedError, JournalUsageError } from './errors';
import { FRAME_OVERHEAD_BYTES, frameEndAt, frameEpoch, frameSeq, readEpoch, readSeq } from './frame';
import { listSegments, segmentName } from './names';
import type { AppendHandle, LogStorage } from './storage';

export const DEFAULT_SEGMENT_BYTES_MAX = 64 * 1024 * 1024;

export interface LogWriterOptions {
  storage: LogStorage;
  /**
   * Runs `fn` soon, after the current synchronous work; production passes
   * `setImmediate` so that all updates handled in one event-loop turn share a write.
   */
  defer: (fn: () => void) => void;
  /** Seq of the last record already in the log (`Recovery.lastSeq`); 0 for a new log. */
  lastSeq: number;
  /** Epoch of that record (`Recovery.lastEpoch`); 0 for a new log. */
  lastEpoch: number;
  /** Soft size limit of one segment file in bytes. Default 64 MiB. */
  segmentBytesMax?: number;
  /** Called after each group is written (not yet durable) with the group's last seq. */
  onWritten?: (lastSeq: number) => void;
  /** Called after a sync completes with the last seq it made durable. */
  onSynced?: (lastSeq: number) => void;
  /**
   * Called once, with a JournalFailedError whose `cause` is the I/O error, when a write,
   * sync or rotation fails. The writer is unusable afterwards.
   */
  onError: (err: Error) => void;
}

export class LogWriter {
  private readonly storage: LogStorage;
  private readonly defer: (fn: () => void) => void;
  private readonly segmentBytesMax: number;
  private readonly onWritten: ((lastSeq: number) => void) | undefined;
  private readonly onSynced: ((lastSeq: number) => void) | undefined;
  private readonly onError: (err: Error) => void;

  private queue: Uint8Array[] = [];
  private queueBytes = 0;
  private flushScheduled = false;
  /** The running flush loop; it never rejects (failures go to `fail`). */
  private flushing: Promise<void> | null = null;
  /** The running fdatasync, if any; never rejects. */
  private syncing: Promise<void> | null = null;
  /** Set while the current segment is being synced, closed and replaced; never rejects. */
  private rotating: Promise<void> | null = null;
  private truncating = false;
  private closed = false;
  private failure: JournalFailedError | null = null;

  private handle: AppendHandle | null = null;
  private handleName: string | null = null;

  private _lastSeq: number;
  private _lastEpoch: number;
  private _writtenSeq: number;
  private _syncedSeq: number;
  private _bytesWritten = 0;

  /** Bound once so that scheduling a flush allocates nothing. */
  private readonly runScheduledFlush = (): void => {
    this.flushScheduled = false;
    this.startFlush();
  };

  constructor(options: LogWriterOptions) {
    const { lastSeq, lastEpoch } = options;
    if (!Number.isSafeInteger(lastSeq) || lastSeq < 0) throw new JournalUsageError(`lastSeq must be a non-negative safe integer, got ${lastSeq}`);
    if (!Number.isInteger(lastEpoch) || lastEpoch < 0) throw new JournalUsageError(`lastEpoch must be a non-negative integer, got ${lastEpoch}`);
    this.storage = options.storage;
    this.defer = options.defer;
    this.segmentBytesMax = options.segmentBytesMax ?? DEFAULT_SEGMENT_BYTES_MAX;
    this.onWritten = options.onWritten;
    this.onSynced = options.onSynced;
    this.onError = options.onError;
    this._lastSeq = lastSeq;
    this._lastEpoch = lastEpoch;
    this._writtenSeq = lastSeq;
    // What recovery found is durable: recover() fsyncs the newest segment it kept.
    this._syncedSeq = lastSeq;
  }

  /** Seq of the last frame handed to `append` (queued, maybe not yet written). */
  get lastSeq(): number {
    return this._lastSeq;
  }
  /** Epoch of the last frame handed to `append`. */
  get lastEpoch(): number {
    return this._lastEpoch;
  }
  /** Seq of the last frame written to a file (reported by `onWritten`). */
  get writtenSeq(): number {
    return this._writtenSeq;
  }
  /** Seq of the last frame known durable (reported by `onSynced`). */
  get syncedSeq(): number {
    return this._syncedSeq;
  }
  /** Total bytes written by this writer since it was created. */
  get bytesWritten(): number {
    return this._bytesWritten;
  }
  /** Name of the segment currently open for appending, if any. */
  get currentSegment(): string | null {
    return this.handleName;
  }
  /** The error that stopped the writer, or null while it is healthy. */
  get failed(): JournalFailedError | null {
    return this.failure;
  }

  /**
   * Queues one encoded frame (from `encodeFrame`). Synchronous and allocation-light: it
   * returns no promise; progress is reported through `onWritten` / `onSynced`.
   * Throws JournalUsageError if the frame's seq is not `lastSeq + 1` or its epoch is
   * lower than `lastEpoch`, and JournalFailedError if the writer has failed.
   */
  append(frame: Uint8Array): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new JournalUsageError('LogWriter.append called after close()');
    if (this.truncating) throw new JournalUsageError('LogWriter.append called during truncateAfter()');
    if (frame.length < FRAME_OVERHEAD_BYTES) throw new JournalUsageError(`not an encoded frame: only ${frame.length} bytes`);
    const seq = frameSeq(frame);
    if (seq !== this._lastSeq + 1) {
      throw new JournalUsageError(`journal frames must carry consecutive seqs: got seq ${seq} after ${this._lastSeq}`);
    }
    const epoch = frameEpoch(frame);
    if (epoch < this._lastEpoch) {
      throw new JournalUsageError(`journal epochs must not decrease: got epoch ${epoch} after ${this._lastEpoch} (seq ${seq})`);
    }
    this.queue.push(frame);
    this.queueBytes += frame.length;
    this._lastSeq = seq;
    this._lastEpoch = epoch;
    if (!this.flushScheduled && this.flushing === null) {
      this.flushScheduled = true;
      this.defer(this.runScheduledFlush);
    }
  }

  /**
   * Makes everything written so far durable, then calls `onSynced(seq)`. Concurrent
   * calls share one fdatasync when nothing new was written in between. Resolves at once
   * if there is nothing unsynced. Rejects with JournalFailedError if the writer failed
   * (`onError` has then already been called, so a caller that runs this from a timer
   * can attach a no-op catch).
   */
  async sync(): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      const target = this._writtenSeq;
      if (target <= this._syncedSeq) return;
      if (this.syncing) {
        await this.syncing;
        continue;
      }
      if (this.rotating) {
        // Rotation syncs the old segment itself; wait and re-check.
        await this.rotating;
        continue;
      }
      const handle = this.handle;
      if (!handle) return; // Unreachable in practice: written data always has an open handle or was synced when it was closed.
      this.syncing = this.track(this.runSync(handle, target), (p) => {
        if (this.syncing === p) this.syncing = null;
      });
    }
  }

  /**
   * Resolves when every queued frame has been written and no write is in flight
   * (a scheduled flush is started right away rather than waiting for `defer`).
   */
  async idle(): Promise<void> {
    for (;;) {
      if (this.flushing) {
        await this.flushing;
        continue;
      }
      if (this.queue.length > 0 && !this.failure) {
        this.startFlush();
        continue;
      }
      return;
    }
  }

  /**
   * Drops every record with seq > `seq` from the log: the segment holding `seq` is cut
   * just after it and later segments are deleted (newest first, so that a crash part-way
   * leaves a log that merely ends early, never one with a hole). Used to reconcile a
   * rejoining node's divergent tail. Only valid on an idle writer (`await idle()`);
   * appends are refused while it runs. Afterwards `lastSeq` is `seq` and `lastEpoch` is
   * that record's epoch (0 if the log no longer holds record `seq`, e.g. it is covered
   * only by a snapshot), and the next group starts a new segment.
   */
  async truncateAfter(seq: number): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.closed) throw new JournalUsageError('LogWriter.truncateAfter called after close()');
    if (!Number.isSafeInteger(seq) || seq < 0) throw new JournalUsageError(`truncateAfter needs a non-negative safe integer, got ${seq}`);
    if (this.flushing || this.queue.length > 0 || this.rotating || this.truncating) {
      throw new JournalUsageError('truncateAfter needs an idle writer: await idle() first');
    }
    if (seq >= this._lastSeq) return;
    this.truncating = true;
    try {
      // Make what we keep durable and release the file before cutting it.
      await this.sync();
      while (this.syncing) await this.syncing;
      if (this.failure) throw this.failure;
      if (this.handle) {
        const h = this.handle;
        this.handle = null;
        this.handleName = null;
        await h.close();
      }
      const segments = listSegments(await this.storage.list());
      let epoch = 0;
      for (let i = segments.length - 1; i >= 0; i--) {
        const seg = segments[i]!;
        if (seg.seq > seq) {
          await this.storage.remove(seg.name);
          continue;
        }
        const buf = await this.storage.read(seg.name);
        const cut = findRecordEnd(buf, seg.name, seg.seq, seq);
        if (cut.offset < buf.length) await this.storage.truncate(seg.name, cut.offset);
        epoch = cut.epoch;
        break;
      }
      this._lastSeq = seq;
      this._writtenSeq = seq;
      this._syncedSeq = seq;
      this._lastEpoch = epoch;
    } catch (err) {
      if (err instanceof JournalCorruptError || err instanceof JournalUsageError || err instanceof JournalFailedError) throw err;
      this.fail(err);
      throw this.failure!;
    } finally {
      this.truncating = false;
    }
  }

  /**
   * Writes whatever is queued, syncs it and closes the segment. Appends are refused from
   * the moment this is called. After a failure it only releases the file.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.idle();
    if (!this.failure) await this.sync();
    while (this.syncing) await this.syncing;
    const h = this.handle;
    this.handle = null;
    this.handleName = null;
    if (h) {
      try {
        await h.close();
      } catch (err) {
        if (!this.failure) {
          this.fail(err);
          throw this.failure!;
        }
      }
    }
  }

  private startFlush(): void {
    if (this.flushing !== null || this.queue.length === 0 || this.failure) return;
    this.flushing = this.track(this.flushLoop(), (p) => {
      if (this.flushing === p) this.flushing = null;
      // Frames queued between the loop's last check and now have not been scheduled
      // (append saw a flush in flight), so schedule them here.
      if (this.queue.length > 0 && !this.flushScheduled && !this.failure) {
        this.flushScheduled = true;
        this.defer(this.runScheduledFlush);
      }
    });
  }

  /** Writes groups until the queue is empty. Never rejects. */
  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failure) {
        const group = this.queue;
        const bytes = this.queueBytes;
        this.queue = [];
        this.queueBytes = 0;
        const firstSeq = frameSeq(group[0]!);
        const lastSeq = firstSeq + group.length - 1;
        await this.prepareSegment(firstSeq, bytes);
        if (this.failure) return;
        await this.handle!.append(group);
        this._writtenSeq = lastSeq;
        this._bytesWritten += bytes;
        this.onWritten?.(lastSeq);
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** Makes sure `handle` is a segment that can take `bytes` more (rotating if not). */
  private async prepareSegment(firstSeq: number, bytes: number): Promise<void> {
    if (this.handle === null) {
      await this.openSegment(firstSeq);
      return;
    }
    const size = this.handle.size;
    if (size > 0 && size + bytes > this.segmentBytesMax) {
      const rotation = this.track(this.rotate(this.handle, firstSeq), (p) => {
        if (this.rotating === p) this.rotating = null;
      });
      this.rotating = rotation;
      await rotation;
    }
  }

  /** Syncs and closes `old`, then opens the segment for `firstSeq`. Never rejects. */
  private async rotate(old: AppendHandle, firstSeq: number): Promise<void> {
    try {
      while (this.syncing) await this.syncing;
      if (this.failure) return;
      await old.sync();
      this.markSynced(this._writtenSeq);
      this.handle = null;
      this.handleName = null;
      await old.close();
      await this.openSegment(firstSeq);
    } catch (err) {
      this.fail(err);
    }
  }

  private async openSegment(firstSeq: number): Promise<void> {
    const name = segmentName(firstSeq);
    this.handle = await this.storage.openAppend(name);
    this.handleName = name;
  }

  /** One fdatasync covering everything written up to `target`. Never rejects. */
  private async runSync(handle: AppendHandle, target: number): Promise<void> {
    try {
      await handle.sync();
      this.markSynced(target);
    } catch (err) {
      this.fail(err);
    }
  }

  private markSynced(seq: number): void {
    if (seq > this._syncedSeq) {
      this._syncedSeq = seq;
      this.onSynced?.(seq);
    }
  }

  /**
   * Returns `p` after arranging for `done(p)` to run when it settles; used to clear the
   * "in flight" fields only if they still point at the same operation.
   */
  private track(p: Promise<void>, done: (p: Promise<void>) => void): Promise<void> {
    void p.then(() => done(p));
    return p;
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    const msg = err instanceof Error ? err.message : String(err);
    this.failure = new JournalFailedError(`journal write failed, the log can no longer be trusted: ${msg}`, { cause: err });
    this.queue = [];
    this.queueBytes = 0;
    this.onError(this.failure);
  }
}

/**
 * Finds the byte offset just past record `seq` in a segment that starts at `firstSeq`
 * (<= seq), checking every frame on the way: a truncation point found by walking through
 * damaged data would be meaningless.
 */
function findRecordEnd(buf: Uint8Array, name: string, firstSeq: number, seq: number): { offset: number; epoch: number } {
  let off = 0;
  let expected = firstSeq;
  while (off < buf.length) {
    const next = frameEndAt(buf, off);
    if (next < 0) break;
    const s = readSeq(buf, off);
    if (s !== expected) break;
    if (s === seq) return { offset: next, epoch: readEpoch(buf, off) };
    expected++;
    off = next;
  }
  throw new JournalCorruptError(
    `journal: cannot truncate after seq ${seq}: ${name} has no intact record ${seq} (scan stopped at byte offset ${off}, seq ${expected})`,
    name,
    off,
  );
}
