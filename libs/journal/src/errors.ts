/**
 * The journal's error classes, all in one place so callers can tell them apart with
 * `instanceof` or by `name` (the latter survives crossing a worker or process boundary).
 */

/**
 * The on-disk log is damaged somewhere other than a torn tail, so starting from it would
 * silently lose or reorder committed records. The message names the file and byte offset
 * and says how to repair; `file` and `offset` carry the same facts for programs.
 */
export class JournalCorruptError extends Error {
  override readonly name = 'JournalCorruptError';
  /** The segment (or snapshot) file in which the damage starts. */
  readonly file: string;
  /** Byte offset in `file` of the first byte that could not be trusted. */
  readonly offset: number;

  constructor(message: string, file: string, offset: number, options?: { cause?: unknown }) {
    super(message, options);
    this.file = file;
    this.offset = offset;
  }
}

/**
 * A snapshot file failed validation (bad magic, version, length or checksum). Recovery
 * does not throw this: it skips the file with a warning and falls back to an older one.
 * `readSnapshot` throws it for callers that ask for one file by name.
 */
export class SnapshotCorruptError extends Error {
  override readonly name = 'SnapshotCorruptError';
  readonly file: string;

  constructor(message: string, file: string, options?: { cause?: unknown }) {
    super(message, options);
    this.file = file;
  }
}

/**
 * The journal was used against its contract: a frame with a non-consecutive seq, a
 * truncation while a write was in flight, an append after close. These are bugs in the
 * caller, so they throw immediately instead of going through `onError`.
 */
export class JournalUsageError extends Error {
  override readonly name = 'JournalUsageError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A write, sync or rotation failed, so the writer stopped: after a failed write or fsync
 * the file's contents are unknown (and a retried fsync can falsely succeed), so the only
 * safe reaction is to stop journaling and let the node fail over. Every later call on
 * the writer throws this, with the original I/O error as `cause`.
 */
export class JournalFailedError extends Error {
  override readonly name = 'JournalFailedError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * `readFrames` was asked for records the log no longer holds because compaction deleted
 * them (they are covered by a snapshot). The caller should send a snapshot instead.
 * `firstSeq` is the oldest seq still in the log (0 when the log is empty).
 */
export class JournalRangeError extends Error {
  override readonly name = 'JournalRangeError';
  readonly fromSeq: number;
  readonly firstSeq: number;

  constructor(message: string, fromSeq: number, firstSeq: number, options?: { cause?: unknown }) {
    super(message, options);
    this.fromSeq = fromSeq;
    this.firstSeq = firstSeq;
  }
}
