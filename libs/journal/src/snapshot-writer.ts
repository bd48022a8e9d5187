/**
 * A snapshot file written as it is encoded, so that a node snapshotting a million
 * assets never holds the whole body (about 100 MB) in memory: every chunk goes to a
 * part file when it is handed over and can be dropped at once. Holding them all until
 * one final write promoted every chunk to V8's old space and cost full mark-compacts
 * long enough to stall the heartbeat.
 *
 * The file is the one writeSnapshot writes (snapshot.ts), byte for byte. Its header
 * (body length, CRC of the body) and the first `reserve` bytes of the body (a body
 * header that counts what follows) are only known at the end: they are written as
 * zeros first and filled in at `commit` with `writeAt`. The CRC of the body is kept
 * incrementally over what follows the reserved bytes and combined with theirs at the
 * end (crc32cCombine), so nothing is read back.
 *
 * Crash safety: the part file has a name the journal does not read (nothing ever
 * recovers from it); `commit` syncs it, then renames it over the snapshot name (a
 * durable rename: the directory is synced). A crash before the rename leaves the
 * previous snapshots as they were and a part file the next `open` removes; after it,
 * the complete file. One snapshot is written at a time per log directory.
 */
import { crc32c, crc32cCombine, crc32cUpdate } from './crc32c';
import { JournalUsageError } from './errors';
import { snapshotName } from './names';
import { SNAPSHOT_HEADER_BYTES, checkSnapshotId, encodeSnapshotHeader } from './snapshot';
import type { AppendHandle, LogStorage } from './storage';

/** The part file a snapshot is written into before it is renamed into place. */
export const SNAPSHOT_PART_NAME = 'snapshot-writing.part';

/**
 * Bytes appended between syncs of the part file. Left to one sync at the commit, the
 * 80-100 MB of a million-account snapshot sat in the page cache and went to the disk
 * in one flush of a few hundred ms, and every small fdatasync on the machine meanwhile
 * (the peer's epoch record and log, the arbiter's store) waited behind it: at a
 * failover that was most of a 200 ms promotion. Synced every 4 MiB, the disk's queue
 * holds at most that much of the snapshot.
 */
const SYNC_EVERY_BYTES = 4 * 1024 * 1024;

export class SnapshotFileWriter {
  /** CRC32C of the body after the reserved bytes, so far. */
  private crc = 0;
  /** Body bytes after the reserved ones, so far. */
  private restLen = 0;
  /** Bytes appended since the part file was last synced. */
  private unsynced = 0;
  private done = false;

  private constructor(
    private readonly storage: LogStorage,
    private readonly handle: AppendHandle,
    readonly seq: number,
    readonly epoch: number,
    readonly reserve: number,
  ) {}

  /**
   * Starts the snapshot of `seq` (a record of `epoch`) in a fresh part file, with
   * `reserve` bytes at the start of the body to be supplied at `commit`.
   */
  static async open(storage: LogStorage, seq: number, epoch: number, reserve = 0): Promise<SnapshotFileWriter> {
    checkSnapshotId(seq, epoch);
    if (!Number.isSafeInteger(reserve) || reserve < 0) throw new JournalUsageError(`snapshot reserve must be a non-negative safe integer, got ${reserve}`);
    // A part file left by a crash (or a failed write) is never read: start over.
    await storage.remove(SNAPSHOT_PART_NAME);
    const handle = await storage.openAppend(SNAPSHOT_PART_NAME);
    const w = new SnapshotFileWriter(storage, handle, seq, epoch, reserve);
    try {
      await handle.append([new Uint8Array(SNAPSHOT_HEADER_BYTES + reserve)]);
    } catch (err) {
      await w.discard();
      throw err;
    }
    return w;
  }

  /** Appends the next body chunk; the caller may drop it once this resolves. */
  async append(chunk: Uint8Array): Promise<void> {
    this.check();
    await this.handle.append([chunk]);
    this.crc = crc32cUpdate(this.crc, chunk);
    this.restLen += chunk.length;
    this.unsynced += chunk.length;
    if (this.unsynced >= SYNC_EVERY_BYTES) {
      this.unsynced = 0;
      await this.handle.sync();
    }
  }

  /**
   * Fills in the reserved body bytes (`head`, exactly `reserve` long) and the file
   * header, syncs the file and renames it into place; returns the snapshot's name.
   */
  async commit(head: Uint8Array = new Uint8Array(0)): Promise<string> {
    this.check();
    if (head.length !== this.reserve) throw new JournalUsageError(`snapshot head must be the ${this.reserve} bytes reserved, got ${head.length}`);
    this.done = true;
    const name = snapshotName(this.seq);
    try {
      const crc = crc32cCombine(crc32c(head), this.crc, this.restLen);
      const header = encodeSnapshotHeader({ seq: this.seq, epoch: this.epoch, bodyLen: this.reserve + this.restLen, crc });
      if (head.length > 0) await this.storage.writeAt(SNAPSHOT_PART_NAME, SNAPSHOT_HEADER_BYTES, head);
      await this.storage.writeAt(SNAPSHOT_PART_NAME, 0, header);
      await this.handle.sync();
      await this.handle.close();
      await this.storage.rename(SNAPSHOT_PART_NAME, name);
    } catch (err) {
      await this.removePart();
      throw err;
    }
    return name;
  }

  /** Gives up: the part file is closed and removed; the snapshots in place are untouched. */
  async discard(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.removePart();
  }

  private async removePart(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await this.storage.remove(SNAPSHOT_PART_NAME).catch(() => undefined);
  }

  private check(): void {
    if (this.done) throw new JournalUsageError(`snapshot ${snapshotName(this.seq)} is already committed or discarded`);
  }
}
