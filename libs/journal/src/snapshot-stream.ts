/**
 * Snapshot files moved between nodes a piece at a time, so that neither side ever holds
 * a whole snapshot in memory for the transfer: the sender reads windows of its newest
 * snapshot file (`readAt`), the receiver appends each piece to a part file as it
 * arrives, checks the header and the body's CRC32C incrementally, and only then puts
 * the file in place under its snapshot name (`rename`). A part file left by a crash is
 * not a snapshot (recovery ignores its name) and is replaced by the next transfer.
 */
import { crc32cUpdate } from './crc32c';
import { SnapshotCorruptError } from './errors';
import { listSnapshots, snapshotName } from './names';
import { parseSnapshotHeader, SNAPSHOT_HEADER_BYTES, type SnapshotFileHeader } from './snapshot';
import type { AppendHandle, LogStorage } from './storage';

/** Where a snapshot being received is written until it is verified. */
export const INCOMING_SNAPSHOT_NAME = 'incoming-snapshot.part';

/** A snapshot file as a sender streams it: its name, header and total size. */
export interface SnapshotFileInfo extends SnapshotFileHeader {
  name: string;
  /** The file's size: header plus body. */
  bytes: number;
}

/**
 * The newest snapshot file whose header is sound, read with one small `readAt` (the
 * body's CRC is the receiver's to check as the pieces pass), or null if there is none.
 */
export async function newestSnapshotFile(storage: LogStorage): Promise<SnapshotFileInfo | null> {
  const snaps = listSnapshots(await storage.list());
  for (let i = snaps.length - 1; i >= 0; i--) {
    const { name, seq } = snaps[i]!;
    try {
      const h = parseSnapshotHeader(name, seq, await storage.readAt(name, 0, SNAPSHOT_HEADER_BYTES));
      return { ...h, name, bytes: SNAPSHOT_HEADER_BYTES + h.bodyLen };
    } catch (err) {
      // Damaged, or deleted by compaction since the listing: try the next older one.
      if (!(err instanceof SnapshotCorruptError) && (err as { code?: unknown }).code !== 'ENOENT') throw err;
    }
  }
  return null;
}

/**
 * A snapshot file arriving in pieces, in order. `accept` takes the piece that starts
 * where the previous one ended (anything else is refused: the sender resends from
 * `expected`), appends it to the part file and feeds the CRC; `verify` waits for the
 * writes, syncs and checks the file; `place` renames it to `snapshot-<seq>.snap` (the
 * caller first removes what the snapshot replaces, so the two never mix in a recovery).
 */
export class IncomingSnapshot {
  /** Bytes accepted (queued for writing) contiguously from offset 0. */
  private accepted = 0;
  /** Bytes written to the part file. */
  written = 0;
  private readonly head = new Uint8Array(SNAPSHOT_HEADER_BYTES);
  private crc = 0;
  private writes: Promise<void> = Promise.resolve();
  private failure: Error | null = null;

  private constructor(
    private readonly storage: LogStorage,
    private readonly handle: AppendHandle,
    readonly seq: number,
    readonly bytes: number,
  ) {}

  /** Starts a fresh part file for the snapshot of `seq`, `bytes` long. */
  static async open(storage: LogStorage, seq: number, bytes: number): Promise<IncomingSnapshot> {
    await storage.remove(INCOMING_SNAPSHOT_NAME);
    return new IncomingSnapshot(storage, await storage.openAppend(INCOMING_SNAPSHOT_NAME), seq, bytes);
  }

  get complete(): boolean {
    return this.accepted === this.bytes;
  }

  /** Where the next piece must start. */
  get expected(): number {
    return this.accepted;
  }

  /** Takes the piece at `offset` if it is the next one; false if it is not (a gap or a repeat). */
  accept(offset: number, piece: Uint8Array): boolean {
    if (offset !== this.accepted || piece.length === 0 || offset + piece.length > this.bytes || this.failure !== null) return false;
    // The payload is a view into the message: copy it, since the write completes later.
    const copy = piece.slice();
    const headPart = Math.max(0, Math.min(copy.length, SNAPSHOT_HEADER_BYTES - offset));
    if (headPart > 0) this.head.set(copy.subarray(0, headPart), offset);
    this.crc = crc32cUpdate(this.crc, copy, headPart, copy.length);
    this.accepted += copy.length;
    this.writes = this.writes.then(async () => {
      if (this.failure !== null) return;
      try {
        await this.handle.append([copy]);
        this.written += copy.length;
      } catch (err) {
        this.failure = err as Error;
      }
    });
    return true;
  }

  /** Resolves when every accepted piece is written (acks report `written`). */
  flushed(): Promise<void> {
    return this.writes;
  }

  /** Syncs and verifies the complete file; returns its header. */
  async verify(): Promise<SnapshotFileHeader> {
    await this.writes;
    if (this.failure !== null) throw this.failure;
    await this.handle.sync();
    await this.handle.close();
    const name = snapshotName(this.seq);
    const h = parseSnapshotHeader(name, this.seq, this.head);
    const bad = (why: string) => new SnapshotCorruptError(`snapshot ${name} received from the primary is corrupt: ${why}`, name);
    if (SNAPSHOT_HEADER_BYTES + h.bodyLen !== this.bytes) throw bad(`header says ${h.bodyLen} body bytes, ${this.bytes - SNAPSHOT_HEADER_BYTES} arrived`);
    if (h.crc !== this.crc) throw bad('body checksum mismatch');
    return h;
  }

  /** Puts the verified file in place under its snapshot name; returns that name. */
  async place(): Promise<string> {
    const name = snapshotName(this.seq);
    await this.storage.rename(INCOMING_SNAPSHOT_NAME, name);
    return name;
  }

  /** Gives up on the transfer: the part file is closed and removed. */
  async discard(): Promise<void> {
    await this.writes;
    await this.handle.close().catch(() => undefined);
    await this.storage.remove(INCOMING_SNAPSHOT_NAME);
  }
}
