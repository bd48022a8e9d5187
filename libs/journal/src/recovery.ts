/**
 * Recovery: turn whatever is in the log directory after a crash into a trustworthy
 * starting point (newest valid snapshot + the consecutive run of records after it), and
 * serve records from the log for replay and retransmission.
 *
 * What counts as damage, and what happens to it:
 *
 * - A torn TAIL is the expected result of a crash during a write: the newest segment
 *   ends in a partial record. It is recognized only in the newest segment and only when
 *   nothing valid follows the bad frame: a header or body that runs past the end of the
 *   file (and no intact later record can be found after it), a zero length with only
 *   zero bytes to the end of the file (space the file system allocated but never
 *   wrote), or a checksum mismatch in a frame that is the last thing in the file. Such a
 *   tail held no acknowledged record, so it is truncated with a warning.
 * - Anything else is damage in the MIDDLE: a bad frame followed by more data, any bad
 *   frame in an older segment (segments are synced before the writer moves on, so they
 *   cannot be torn), a seq that is not previous+1, an epoch that goes down, or a log
 *   that starts after the snapshot ends (missing history). Starting from such a log
 *   could silently drop or reorder committed records, so `recover` throws a
 *   JournalCorruptError naming the file and byte offset, unless the operator asked for
 *   `repair`, in which case the log is cut at that point with a loud warning.
 *
 * Segments wholly covered by the snapshot are not read at all: the scan starts at the
 * newest segment whose firstSeq <= snapshot.seq + 1, so damage in history nobody needs
 * cannot stop a node from starting (and cannot make a repair cut away needed records).
 */
import { JournalCorruptError } from './errors';
import { FRAME_CRC, FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, FRAME_ZERO, frameEndAt, frameSpanAt, readEpoch, readSeq, describeFailure } from './frame';
import { FrameReader } from './frame-reader';
import { checkLogFormat } from './log-format';
import { listSegments, listSnapshots, type SeqFile } from './names';
import { readNewestSnapshot, readSnapshot, SNAPSHOT_HEADER_BYTES } from './snapshot';
import type { LogStorage } from './storage';

export interface RecoverOptions {
  /**
   * Cut the log at the first damage in the middle instead of refusing to start
   * (the `--repair-log` switch). Every record after the damage is lost.
   */
  repair?: boolean;
  /** Receives one human-readable line per problem found and fixed. */
  warn: (msg: string) => void;
}

/** Called once per replayed record; `payload` and `frame` are views into the segment just read. */
export type ReplayFn = (epoch: number, seq: number, payload: Uint8Array, frame: Uint8Array) => void;

export interface Recovery {
  /** The newest snapshot that validated, or null. */
  snapshot: { name: string; seq: number; epoch: number; body: Uint8Array } | null;
  /** Seq of the last record in the log, or the snapshot's seq if the log holds nothing after it; 0 if both are empty. */
  lastSeq: number;
  /** Epoch that goes with `lastSeq`. */
  lastEpoch: number;
  /**
   * Where each epoch began among the records scanned, `[epoch, firstSeq]`, oldest first:
   * a record whose epoch is higher than the one before it (or the log's first record).
   * The log's own word on its epochs, for a node whose epoch record lags behind it.
   */
  epochStarts: [epoch: number, firstSeq: number][];
  /**
   * Calls `fn` synchronously for every recovered record with seq >= fromSeq, in seq
   * order, and resolves with how many it called it for. Reads one segment at a time,
   * checks every record's CRC again and allocates nothing per record except the two
   * views it passes. Pass `snapshot.seq + 1` to replay the tail after the snapshot.
   * With `pause`, it is awaited after every REPLAY_SLICE_FRAMES records, so a node that
   * rebuilds while its peer waits for it (a rollback) keeps its heartbeats going.
   */
  replay(fromSeq: number, fn: ReplayFn, pause?: () => Promise<void>): Promise<number>;
  /** Segment files that recovery read and kept, oldest first (covered older segments not included). */
  segments: string[];
}

/** Recovers the log in `storage`; see the module comment for the rules. */
export async function recover(storage: LogStorage, options: RecoverOptions): Promise<Recovery> {
  await checkLogFormat(storage);
  const snapshot = await readNewestSnapshot(storage, options.warn);
  const snapSeq = snapshot?.seq ?? 0;
  const scan = new SegmentScan(storage, listSegments(await storage.list()), options.repair ?? false, options.warn);
  await scan.run(snapSeq, snapshot?.epoch ?? 0, snapshot?.name ?? null);
  await syncNewestKept(storage, scan.live, scan.ends);
  const { live, ends } = scan;
  return {
    snapshot: snapshot ? { name: snapshot.name, seq: snapshot.seq, epoch: snapshot.epoch, body: snapshot.body } : null,
    lastSeq: Math.max(scan.lastSeq, snapSeq),
    lastEpoch: Math.max(scan.lastEpoch, snapshot?.epoch ?? 0),
    epochStarts: scan.epochStarts,
    segments: live.map((s) => s.name),
    replay: (fromSeq, fn, pause) => replaySegments(storage, live, ends, fromSeq, fn, pause),
  };
}

/** What verifyLog found in a log directory that is sound. */
export interface LogCheck {
  /** Segment files, oldest first, and the records in all of them. */
  segments: number;
  records: number;
  /** The first and last seq the segments hold (0 when there are none). */
  firstSeq: number;
  lastSeq: number;
  lastEpoch: number;
  /** Snapshot files, each checked (header, length, checksum). */
  snapshots: { name: string; seq: number; epoch: number; bytes: number }[];
}

/**
 * An operator's check of a stopped node's log (txtest-admin verify): every snapshot and
 * every segment from the oldest, the ones recovery skips included, with the rules of
 * recovery, changing nothing on disk. Throws JournalCorruptError or SnapshotCorruptError,
 * naming the file and byte offset, at the first damage; a torn tail (which a start
 * truncates) is reported through `warn`. `checkBody` sees each snapshot's body (the
 * journal does not know its format) and throws to report it damaged.
 */
export async function verifyLog(
  storage: LogStorage,
  warn: (msg: string) => void,
  checkBody?: (name: string, body: Uint8Array) => void | Promise<void>,
): Promise<LogCheck> {
  await checkLogFormat(storage, true);
  const names = await storage.list();
  const snapshots: LogCheck['snapshots'] = [];
  for (const { name } of listSnapshots(names)) {
    const s = await readSnapshot(storage, name);
    await checkBody?.(name, s.body);
    snapshots.push({ name, seq: s.seq, epoch: s.epoch, bytes: s.body.length + SNAPSHOT_HEADER_BYTES });
  }
  const all = listSegments(names);
  const newest = snapshots.at(-1) ?? null;
  const firstSeq = all[0]?.seq ?? 0;
  const scan = new SegmentScan(storage, all, false, warn, true);
  // History before the oldest segment must be in a snapshot, as recovery requires.
  if (firstSeq > 1 && (newest === null || newest.seq < firstSeq - 1)) await scan.run(newest?.seq ?? 0, newest?.epoch ?? 0, newest?.name ?? null);
  else await scan.run(Math.max(0, firstSeq - 1), -1, null);
  const records = scan.lastSeq === 0 ? 0 : scan.lastSeq - firstSeq + 1;
  return { segments: all.length, records, firstSeq, lastSeq: scan.lastSeq, lastEpoch: scan.lastEpoch, snapshots };
}

/**
 * One pass over the segments from the one that holds the snapshot's next record: every
 * frame checked (CRC, seq continuity, epochs never going down), a torn tail of the
 * newest segment cut off, damage anywhere else refused or, with `repair`, cut off too.
 */
class SegmentScan {
  /** The segments kept, oldest first, and where the valid bytes of each end. */
  readonly live: SeqFile[] = [];
  readonly ends: number[] = [];
  lastSeq = 0;
  lastEpoch = 0;
  readonly epochStarts: [number, number][] = [];
  /** The next seq the scan expects. */
  private expected = 0;
  /** The epoch of the record before the next one, or -1 when the scan cannot know it. */
  private before = -1;

  constructor(
    private readonly storage: LogStorage,
    private readonly all: readonly SeqFile[],
    private readonly repair: boolean,
    private readonly warn: (msg: string) => void,
    /** Change nothing on disk: a torn tail is reported, not truncated (verifyLog). */
    private readonly readOnly = false,
  ) {}

  async run(snapSeq: number, snapEpoch: number, snapName: string | null): Promise<void> {
    const { all } = this;
    if (all.length === 0) return;
    // The scan starts at the newest segment that holds (or would hold) snapSeq + 1.
    let start = -1;
    for (let i = 0; i < all.length; i++) if (all[i]!.seq <= snapSeq + 1) start = i;
    if (start < 0) {
      const covered = snapName !== null ? `the newest valid snapshot (${snapName}) covers only up to seq ${snapSeq}` : 'there is no valid snapshot';
      await this.damage(0, 0, `the log starts at seq ${all[0]!.seq}, but ${covered}, so records ${snapSeq + 1}..${all[0]!.seq - 1} are missing`, snapSeq);
      return;
    }
    this.expected = all[start]!.seq;
    // The record before the first one scanned: none at seq 1, the snapshot's last right
    // after it; anywhere else its epoch is not known, so no start is claimed there.
    this.before = this.expected === 1 ? 0 : this.expected === snapSeq + 1 ? snapEpoch : -1;
    for (let i = start; i < all.length; i++) {
      const seg = all[i]!;
      if (i > start && seg.seq !== this.expected) {
        await this.damage(
          i,
          0,
          `the segment name says it starts at seq ${seg.seq}, but the previous segment ended at seq ${this.expected - 1}`,
          this.expected - 1,
        );
        return;
      }
      if (!(await this.segment(i))) return;
    }
  }

  /** Scans segment `i`; whether the scan goes on to the next one. */
  private async segment(i: number): Promise<boolean> {
    const seg = this.all[i]!;
    const isLast = i === this.all.length - 1;
    const buf = await this.storage.read(seg.name);
    const size = buf.length;
    let off = 0;
    while (off < size) {
      const next = frameEndAt(buf, off, size);
      let problem: string;
      if (next < 0) {
        if (isLast && isTornTail(buf, off, next, this.expected, this.lastEpoch)) {
          if (this.readOnly) {
            this.warn(
              `journal: ${seg.name} ends in a torn tail at byte offset ${off} (${size - off} bytes: ${describeFailure(buf, off, next)}), ` +
                `what a crash during a write leaves; the node truncates it when it starts, and the log ends at seq ${this.expected - 1}`,
            );
            this.keep(seg, off);
            return false;
          }
          await this.storage.truncate(seg.name, off);
          this.warn(
            `journal: truncated torn tail of ${seg.name} at offset ${off} (${size - off} bytes: ${describeFailure(buf, off, next)}); ` +
              `the log now ends at seq ${this.expected - 1}`,
          );
          this.keep(seg, off);
          return false;
        }
        problem = describeFailure(buf, off, next) + (isLast ? `, and ${size - off} bytes follow it` : ' in a segment that is not the newest');
      } else {
        const seq = readSeq(buf, off);
        const epoch = readEpoch(buf, off);
        const wrong =
          seq !== this.expected
            ? `the record there has seq ${seq}, but seq ${this.expected} was expected`
            : epoch < this.lastEpoch
              ? `record seq ${seq} has epoch ${epoch}, lower than the previous record's epoch ${this.lastEpoch}`
              : null;
        if (wrong === null) {
          if (this.before >= 0 && epoch > this.before) this.epochStarts.push([epoch, seq]);
          this.before = epoch;
          this.lastEpoch = epoch;
          this.lastSeq = seq;
          this.expected = seq + 1;
          off = next;
          continue;
        }
        problem = wrong;
      }
      if (await this.damage(i, off, problem, this.expected - 1)) this.keep(seg, off);
      return false;
    }
    this.keep(seg, size);
    return true;
  }

  private keep(seg: SeqFile, end: number): void {
    this.live.push(seg);
    this.ends.push(end);
  }

  /**
   * Handles damage in the middle at `offset` of segment `idx`: throws, or in repair mode
   * cuts the log there (later segments newest first, so a crash during the repair
   * leaves a shorter log rather than a hole) and returns whether `idx` survived.
   */
  private async damage(idx: number, offset: number, reason: string, lastGood: number): Promise<boolean> {
    const seg = this.all[idx]!;
    const later = this.all.slice(idx + 1).map((s) => s.name);
    const laterText = later.length > 0 ? ` and delete ${later.length} later segment file(s) (${later.join(', ')})` : '';
    if (!this.repair) {
      throw new JournalCorruptError(
        `journal: ${seg.name} is corrupt at byte offset ${offset}: ${reason}. ` +
          `This is not a torn tail, so starting from this log could lose or reorder committed records. ` +
          `Records up to seq ${lastGood} are intact. To discard everything from that point on, restart with ` +
          `--repair-log, which will truncate ${seg.name} at offset ${offset}${laterText}.`,
        seg.name,
        offset,
      );
    }
    for (let j = later.length - 1; j >= 0; j--) await this.storage.remove(later[j]!);
    if (offset === 0) await this.storage.remove(seg.name);
    else await this.storage.truncate(seg.name, offset);
    this.warn(
      `journal: REPAIR (--repair-log): ${seg.name} is corrupt at byte offset ${offset}: ${reason}. ` +
        `${offset === 0 ? `Deleted ${seg.name}` : `Truncated ${seg.name} to ${offset} bytes`}` +
        `${later.length > 0 ? ` and deleted ${later.length} later segment file(s) (${later.join(', ')})` : ''}. ` +
        `The log now ends at seq ${lastGood}; EVERY RECORD AFTER IT IS LOST.`,
    );
    return offset > 0;
  }
}

/**
 * The newest segment may hold bytes the previous process wrote but never fsynced (it
 * crashed, the OS did not, so we just read them from the page cache). The state about
 * to be rebuilt includes them and the writer will build on top of them, so they are made
 * durable now: otherwise a later OS crash could cut a hole into the log below records
 * written after this restart. Older segments were synced when the writer rotated away
 * from them (or by an earlier recovery).
 */
async function syncNewestKept(storage: LogStorage, live: readonly SeqFile[], ends: readonly number[]): Promise<void> {
  for (let i = live.length - 1; i >= 0; i--) {
    if (ends[i]! === 0) continue;
    const h = await storage.openAppend(live[i]!.name);
    try {
      await h.sync();
    } finally {
      await h.close();
    }
    return;
  }
}

/** Records replayed between two pauses of a sliced replay (some 10 ms of applying here). */
const REPLAY_SLICE_FRAMES = 16_384;

async function replaySegments(
  storage: LogStorage,
  live: readonly SeqFile[],
  ends: readonly number[],
  fromSeq: number,
  fn: ReplayFn,
  pause?: () => Promise<void>,
): Promise<number> {
  let count = 0;
  for (let i = 0; i < live.length; i++) {
    const end = ends[i]!;
    if (end === 0) continue;
    // Every record of this segment is below the next segment's first seq.
    if (i + 1 < live.length && live[i + 1]!.seq <= fromSeq) continue;
    const seg = live[i]!;
    const buf = await storage.read(seg.name);
    if (buf.length < end) {
      throw new JournalCorruptError(`journal: ${seg.name} shrank to ${buf.length} bytes after recovery had validated ${end}`, seg.name, buf.length);
    }
    const at: ReplayAt = { off: 0, expected: seg.seq, count: 0 };
    const slice = pause === undefined ? Number.POSITIVE_INFINITY : REPLAY_SLICE_FRAMES;
    while (at.off < end) {
      replayBuffer(buf, end, seg, fromSeq, fn, at, slice);
      if (pause !== undefined && at.off < end) await pause();
    }
    count += at.count;
  }
  return count;
}

/** Where a segment's replay stands: the next frame's offset and seq, and the records replayed. */
interface ReplayAt {
  off: number;
  expected: number;
  count: number;
}

/**
 * The hot loop of replay: kept small and monomorphic on purpose. It does not compute
 * the CRCs again: recovery verified every frame of these files moments before, and the
 * lengths and seq continuity checked here catch a file that changed in between. Goes on
 * from `at` for at most `max` frames (skipped ones included).
 */
function replayBuffer(buf: Uint8Array, end: number, seg: SeqFile, fromSeq: number, fn: ReplayFn, at: ReplayAt, max: number): void {
  let { off, expected } = at;
  let count = 0;
  for (let n = 0; off < end && n < max; n++) {
    const next = frameSpanAt(buf, off, end);
    const seq = next < 0 ? -1 : readSeq(buf, off);
    if (seq !== expected) {
      throw new JournalCorruptError(
        `journal: ${seg.name} changed after recovery validated it: ${next < 0 ? describeFailure(buf, off, next) : `seq ${seq} where ${expected} was expected`} at byte offset ${off}`,
        seg.name,
        off,
      );
    }
    expected++;
    if (seq >= fromSeq) {
      fn(readEpoch(buf, off), seq, buf.subarray(off + FRAME_OVERHEAD_BYTES, next), buf.subarray(off, next));
      count++;
    }
    off = next;
  }
  at.off = off;
  at.expected = expected;
  at.count += count;
}

/**
 * Encoded frames with seq >= fromSeq, in order, totalling at most about `maxBytes` (at
 * least one frame is returned if any exists), for retransmitting from the log. Safe to
 * call while a LogWriter appends: a partial frame at the end of the newest segment is
 * taken to be a write in progress and ends the result. The frames are views into one
 * copy of the bytes they span, so holding them does not pin a whole segment in memory.
 * Returns [] when fromSeq is past the end of the log; throws JournalRangeError when the
 * records were compacted away, and JournalCorruptError on damage or a seq gap.
 */
export async function readFrames(storage: LogStorage, fromSeq: number, maxBytes: number): Promise<Uint8Array[]> {
  // Compaction may delete a segment between our list() and read(); the fresh listing on
  // a retry then either finds the records elsewhere or reports the range as gone.
  for (let attempt = 1; ; attempt++) {
    try {
      return await FrameReader.of(storage).read(Math.max(1, fromSeq), maxBytes);
    } catch (err) {
      if (attempt >= 3 || (err as { code?: unknown } | null)?.code !== 'ENOENT') throw err;
    }
  }
}

function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

/** Whether the bad frame at `off` (status `code`) is a torn tail; see the module comment. */
function isTornTail(buf: Uint8Array, off: number, code: number, expected: number, lastEpoch: number): boolean {
  if (code === FRAME_ZERO) {
    for (let p = off; p < buf.length; p++) if (buf[p] !== 0) return false;
    return true;
  }
  if (code === FRAME_CRC) return off + FRAME_HEADER_BYTES + u32(buf, off) === buf.length;
  // FRAME_SHORT: the frame runs past the end of the file. That is what a torn write
  // looks like, but so is a damaged length field in the middle of the file; tell them
  // apart by searching the rest of the file for an intact record that continues the
  // run. The seq/epoch filter makes the search cheap: almost every position fails it
  // before any checksum is computed.
  return !intactRecordAfter(buf, off + 1, expected, lastEpoch);
}

function intactRecordAfter(buf: Uint8Array, from: number, expected: number, lastEpoch: number): boolean {
  const size = buf.length;
  const maxSeq = expected + Math.ceil((size - from) / FRAME_OVERHEAD_BYTES);
  for (let p = from; p + FRAME_OVERHEAD_BYTES <= size; p++) {
    const bodyLen = u32(buf, p);
    if (bodyLen < 12 || bodyLen > size - p - FRAME_HEADER_BYTES) continue;
    const seq = readSeq(buf, p);
    if (seq < expected || seq > maxSeq) continue;
    if (readEpoch(buf, p) < lastEpoch) continue;
    if (frameEndAt(buf, p) > 0) return true;
  }
  return false;
}
