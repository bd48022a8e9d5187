/**
 * Snapshot files: the whole in-memory state as of one seq, so that recovery replays only
 * the log tail after it and old segments can be deleted.
 *
 * File `snapshot-<seq, 16 digits>.snap`:
 *
 *   offset  0        8          12        16          24            32         36
 *           +--------+----------+---------+-----------+-------------+----------+--------+
 *           | magic  | version  | epoch   | seq       | bodyLen     | crc32c   | body   |
 *           |TXSNAP1\0| u32 LE  | u32 LE  | u64 LE    | u64 LE      | (body)   | ...    |
 *           +--------+----------+---------+-----------+-------------+----------+--------+
 *
 * u64 fields are written as two u32 halves, low half first, and must be safe integers.
 * The body is opaque bytes supplied by the caller (the state serializer). The file is
 * written with `writeAtomic` (writeSnapshot) or into a part file renamed into place
 * once synced (SnapshotFileWriter), so a crash leaves either no file or a complete one; the
 * length and CRC checks exist for media damage and for files cut short by other means.
 * The header fields themselves are not checksummed, so `seq` is cross-checked against
 * the file name and `bodyLen` against the file length.
 */
import { crc32cUpdate } from './crc32c';
import { JournalUsageError, SnapshotCorruptError } from './errors';
import { listSegments, listSnapshots, parseSnapshotName, snapshotName } from './names';
import type { LogStorage } from './storage';

/** "TXSNAP1\0" */
const MAGIC = Uint8Array.of(0x54, 0x58, 0x53, 0x4e, 0x41, 0x50, 0x31, 0x00);
export const SNAPSHOT_VERSION = 1;
export const SNAPSHOT_HEADER_BYTES = 36;
const TWO_POW_32 = 0x1_0000_0000;

export interface SnapshotInput {
  /** Seq of the last record whose effect is included in the body. */
  seq: number;
  /** Epoch of that record. */
  epoch: number;
  /** The body, in as many pieces as the serializer produced (they are not concatenated). */
  chunks: Uint8Array[];
  /**
   * Called between chunks while the checksum is computed, so a serving node can yield to
   * its event loop (the journal itself never schedules anything).
   */
  pause?: () => Promise<void>;
}

export interface Snapshot {
  /** File name it was read from. */
  name: string;
  seq: number;
  epoch: number;
  /** The body; a view into the bytes read from storage. */
  body: Uint8Array;
}

/** Writes a snapshot atomically and returns its file name (SnapshotFileWriter writes one as it is encoded). */
export async function writeSnapshot(storage: LogStorage, input: SnapshotInput): Promise<string> {
  const { seq, epoch, chunks } = input;
  checkSnapshotId(seq, epoch);
  let bodyLen = 0;
  let crc = 0;
  for (const c of chunks) {
    bodyLen += c.length;
    crc = crc32cUpdate(crc, c);
    if (input.pause) await input.pause();
  }
  const name = snapshotName(seq);
  await storage.writeAtomic(name, [encodeSnapshotHeader({ seq, epoch, bodyLen, crc }), ...chunks]);
  return name;
}

/** Throws JournalUsageError unless `seq` and `epoch` fit the header. */
export function checkSnapshotId(seq: number, epoch: number): void {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new JournalUsageError(`snapshot seq must be a non-negative safe integer, got ${seq}`);
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffff_ffff) throw new JournalUsageError(`snapshot epoch must be a u32, got ${epoch}`);
}

/** The SNAPSHOT_HEADER_BYTES that start a snapshot file (see the module comment). */
export function encodeSnapshotHeader(h: SnapshotFileHeader): Uint8Array {
  const header = new Uint8Array(SNAPSHOT_HEADER_BYTES);
  const dv = new DataView(header.buffer);
  header.set(MAGIC, 0);
  dv.setUint32(8, SNAPSHOT_VERSION, true);
  dv.setUint32(12, h.epoch, true);
  dv.setUint32(16, h.seq >>> 0, true);
  dv.setUint32(20, Math.floor(h.seq / TWO_POW_32), true);
  dv.setUint32(24, h.bodyLen >>> 0, true);
  dv.setUint32(28, Math.floor(h.bodyLen / TWO_POW_32), true);
  dv.setUint32(32, h.crc, true);
  return header;
}

/** Reads and validates one snapshot file; throws SnapshotCorruptError if it is damaged. */
export async function readSnapshot(storage: LogStorage, name: string): Promise<Snapshot> {
  const nameSeq = parseSnapshotName(name);
  if (nameSeq === null) throw new JournalUsageError(`not a snapshot file name: ${name}`);
  return parseSnapshot(name, nameSeq, await storage.read(name));
}

/** What a snapshot file's header says (see the module comment); the body is not checked. */
export interface SnapshotFileHeader {
  seq: number;
  epoch: number;
  bodyLen: number;
  crc: number;
}

/**
 * Parses and checks the first SNAPSHOT_HEADER_BYTES of snapshot file `name` (magic,
 * version, seq against the name's `nameSeq`); throws SnapshotCorruptError naming the file.
 */
export function parseSnapshotHeader(name: string, nameSeq: number, buf: Uint8Array): SnapshotFileHeader {
  const bad = (why: string): SnapshotCorruptError => new SnapshotCorruptError(`snapshot ${name} is corrupt: ${why}`, name);
  if (buf.length < SNAPSHOT_HEADER_BYTES)
    throw bad(`only ${buf.length} bytes, shorter than the ${SNAPSHOT_HEADER_BYTES}-byte header (byte offset ${buf.length})`);
  for (let i = 0; i < MAGIC.length; i++) if (buf[i] !== MAGIC[i]) throw bad(`bad magic at byte offset ${i} (not a TXSNAP1 file)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== SNAPSHOT_VERSION) throw bad(`unsupported version ${version} at byte offset 8 (this build reads version ${SNAPSHOT_VERSION})`);
  const epoch = dv.getUint32(12, true);
  const seq = dv.getUint32(16, true) + dv.getUint32(20, true) * TWO_POW_32;
  if (seq !== nameSeq) throw bad(`header says seq ${seq} (byte offset 16) but the file name says ${nameSeq}`);
  const bodyLen = dv.getUint32(24, true) + dv.getUint32(28, true) * TWO_POW_32;
  return { seq, epoch, bodyLen, crc: dv.getUint32(32, true) };
}

function parseSnapshot(name: string, nameSeq: number, buf: Uint8Array): Snapshot {
  const { seq, epoch, bodyLen, crc } = parseSnapshotHeader(name, nameSeq, buf);
  const bad = (why: string): SnapshotCorruptError => new SnapshotCorruptError(`snapshot ${name} is corrupt: ${why}`, name);
  const actual = buf.length - SNAPSHOT_HEADER_BYTES;
  if (bodyLen !== actual) throw bad(`header says the body is ${bodyLen} bytes (byte offset 24) but the file holds ${actual}`);
  if (crc32cUpdate(0, buf, SNAPSHOT_HEADER_BYTES, buf.length) !== crc)
    throw bad(`body checksum mismatch (the body is bytes ${SNAPSHOT_HEADER_BYTES}..${buf.length}; the header's checksum at byte offset 32)`);
  return { name, seq, epoch, body: buf.subarray(SNAPSHOT_HEADER_BYTES) };
}

/**
 * The newest snapshot that validates, or null if there is none. A damaged one is skipped
 * with a warning naming the file, and the next older one is tried: that is why
 * `compact` keeps more than one snapshot and the log back to the oldest one kept.
 */
export async function readNewestSnapshot(storage: LogStorage, warn: (msg: string) => void): Promise<Snapshot | null> {
  const snaps = listSnapshots(await storage.list());
  for (let i = snaps.length - 1; i >= 0; i--) {
    const { name, seq } = snaps[i]!;
    try {
      return parseSnapshot(name, seq, await storage.read(name));
    } catch (err) {
      if (!(err instanceof SnapshotCorruptError)) throw err;
      warn(`journal: skipping ${err.message}; falling back to an older snapshot`);
    }
  }
  return null;
}

export interface CompactResult {
  removedSegments: string[];
  removedSnapshots: string[];
}

/**
 * Deletes what a new snapshot made unnecessary: all but the newest `keepSnapshots`
 * snapshots, and every segment whose records are all covered.
 *
 * A segment is covered when the NEXT segment's firstSeq <= bound + 1, so the newest
 * segment is never deleted. The bound is `snapshotSeq`, but never more than the seq of
 * the oldest snapshot kept: if the newest snapshot later turns out damaged, recovery
 * falls back to an older one and needs the log from there on, so deleting up to
 * `snapshotSeq` would make that fallback useless. If there is no snapshot file at all,
 * no segment is deleted (nothing could replace it).
 *
 * Files are deleted oldest first, so a crash part-way leaves a log that starts later
 * than planned but has no hole. `pinnedSeq` (a running sync's position) keeps the
 * snapshot of that seq, if any, and every record after it.
 */
export async function compact(storage: LogStorage, snapshotSeq: number, keepSnapshots = 2, pinnedSeq: number | null = null): Promise<CompactResult> {
  if (!Number.isInteger(keepSnapshots) || keepSnapshots < 1) throw new JournalUsageError(`keepSnapshots must be at least 1, got ${keepSnapshots}`);
  const names = await storage.list();
  const all = listSnapshots(names);
  // A running sync streams a snapshot file and then the log after it (or the log after
  // some seq): that file and those records stay until the sync has moved past them.
  const snaps = pinnedSeq === null ? all : all.filter((s) => s.seq !== pinnedSeq);
  const kept = snaps.slice(Math.max(0, snaps.length - keepSnapshots));
  const removedSegments: string[] = [];
  const removedSnapshots: string[] = [];
  if (kept.length > 0) {
    const bound = Math.min(snapshotSeq, kept[0]!.seq, pinnedSeq ?? Number.MAX_SAFE_INTEGER);
    const segs = listSegments(names);
    for (let i = 0; i + 1 < segs.length; i++) {
      if (segs[i + 1]!.seq > bound + 1) break;
      await storage.remove(segs[i]!.name);
      removedSegments.push(segs[i]!.name);
    }
  }
  for (const s of snaps.slice(0, snaps.length - kept.length)) {
    await storage.remove(s.name);
    removedSnapshots.push(s.name);
  }
  return { removedSegments, removedSnapshots };
}

/**
 * The lowest seq a node can rebuild its state at from its own files (a snapshot at or
 * below it plus the log after that snapshot): the oldest snapshot the log continues
 * from, or 0 when the log starts at seq 1 (or is empty and there is no snapshot).
 * `lastSeq` when nothing qualifies (no rollback is possible).
 */
export function rollbackFloor(names: readonly string[], lastSeq: number): number {
  const segs = listSegments(names);
  const first = segs.length > 0 ? segs[0]!.seq : lastSeq + 1;
  if (first <= 1) return 0;
  for (const s of listSnapshots(names)) if (s.seq + 1 >= first) return s.seq;
  return lastSeq;
}
