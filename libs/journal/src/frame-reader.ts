/**
 * Frames by seq from the log's segments, for retransmission and a joiner's catch-up
 * (`readFrames`), without reading a segment from its start for every chunk.
 *
 * A catch-up asks for one chunk (half a MiB) after another. Each used to read its whole
 * segment and check every frame from the first up to the seq asked for: at a million
 * records that was 64 MiB read and several hundred thousand CRCs per chunk, a stall of
 * the primary's event loop for every few thousand records sent, slower than the primary
 * wrote, so a joiner far enough behind never caught up. Now the position of every
 * INDEX_EVERY-th frame of a segment, and where each read ended, are kept per storage as
 * they are learnt; a read starts at the nearest known position at or below its seq and
 * reads a window from there (`readAt`).
 *
 * Positions are hints, checked on use: a frame must start there and carry the expected
 * seq, else the segment's hints are dropped and it is read from its start again (a
 * truncated and rewritten segment, a repaired one). The frames returned are CRC-checked;
 * the ones skipped on the way only have their lengths followed (recovery checked them).
 */
import { JournalCorruptError, JournalRangeError } from './errors';
import { FRAME_SHORT, describeFailure, frameEndAt, frameSpanAt, readSeq } from './frame';
import { listSegments, type SeqFile } from './names';
import type { LogStorage } from './storage';

/** A position is kept for every this many frames of a segment. */
const INDEX_EVERY = 1024;
/**
 * Bytes read beyond the chunk asked for: the frames to skip from the nearest kept
 * position (at most INDEX_EVERY of them), or, reading on from where the last chunk
 * ended, just enough for the frame that crosses the chunk's end.
 */
const SKIP_BYTES = 256 * 1024;
const SLACK_BYTES = 16 * 1024;

/** Known frame positions in one segment, ascending by seq. */
class SegmentPositions {
  seqs: number[];
  offsets: number[];

  constructor(readonly first: number) {
    this.seqs = [first];
    this.offsets = [0];
  }

  /** The known position at or below `seq`. */
  floor(seq: number): [number, number] {
    let lo = 0;
    let hi = this.seqs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.seqs[mid]! <= seq) lo = mid;
      else hi = mid - 1;
    }
    return [this.seqs[lo]!, this.offsets[lo]!];
  }

  /** Notes that frame `seq` starts at `offset` (kept if past the last known one and a stride on). */
  note(seq: number, offset: number, always = false): void {
    const last = this.seqs[this.seqs.length - 1]!;
    if (seq <= last || (!always && seq - last < INDEX_EVERY)) return;
    this.seqs.push(seq);
    this.offsets.push(offset);
  }
}

/** A stale position (no frame with the expected seq there): the segment is read from its start. */
class StalePosition extends Error {}

export class FrameReader {
  private static readonly byStorage = new WeakMap<LogStorage, FrameReader>();
  private readonly segments = new Map<string, SegmentPositions>();

  private constructor(private readonly storage: LogStorage) {}

  /** The reader of `storage`, with what earlier reads learnt of its segments. */
  static of(storage: LogStorage): FrameReader {
    let r = FrameReader.byStorage.get(storage);
    if (r === undefined) FrameReader.byStorage.set(storage, (r = new FrameReader(storage)));
    return r;
  }

  /** See `readFrames` (recovery.ts), which retries this when compaction races it. */
  async read(fromSeq: number, maxBytes: number): Promise<Uint8Array[]> {
    const segs = listSegments(await this.storage.list());
    this.forgetGone(segs);
    if (segs.length === 0) return [];
    let i = -1;
    for (let j = 0; j < segs.length; j++) if (segs[j]!.seq <= fromSeq) i = j;
    if (i < 0) {
      throw new JournalRangeError(
        `journal: records from seq ${fromSeq} are no longer in the log, which starts at seq ${segs[0]!.seq} (send a snapshot instead)`,
        fromSeq,
        segs[0]!.seq,
      );
    }
    const got: Got = { frames: [], bytes: 0, want: fromSeq };
    for (; i < segs.length; i++) {
      const seg = segs[i]!;
      const isLast = i === segs.length - 1;
      try {
        if (!(await this.fromSegment(seg, isLast, got, maxBytes))) break;
      } catch (err) {
        if (!(err instanceof StalePosition)) throw err;
        this.segments.delete(seg.name);
        if (!(await this.fromSegment(seg, isLast, got, maxBytes))) break;
      }
    }
    return got.frames;
  }

  private forgetGone(segs: readonly SeqFile[]): void {
    if (this.segments.size <= segs.length) return;
    const names = new Set(segs.map((s) => s.name));
    for (const name of this.segments.keys()) if (!names.has(name)) this.segments.delete(name);
  }

  private positions(seg: SeqFile): SegmentPositions {
    let p = this.segments.get(seg.name);
    if (p === undefined || p.first !== seg.seq) this.segments.set(seg.name, (p = new SegmentPositions(seg.seq)));
    return p;
  }

  /**
   * Adds the frames of `seg` from `got.want` on, window by window; whether the next
   * segment may follow (false once the chunk is full, or at the readable end of the newest).
   */
  private async fromSegment(seg: SeqFile, isLast: boolean, got: Got, maxBytes: number): Promise<boolean> {
    const pos = this.positions(seg);
    let [seq, offset] = pos.floor(got.want);
    let checkStart = offset > 0;
    let windowBytes = maxBytes + (seq === got.want ? SLACK_BYTES : SKIP_BYTES);
    for (;;) {
      const buf = await this.storage.readAt(seg.name, offset, windowBytes);
      const atEof = buf.length < windowBytes;
      // A known position past the end of the file: the segment was cut since.
      if (checkStart && buf.length === 0) throw new StalePosition();
      const w: Window = { buf, base: offset, seq, used: 0 };
      const end = scan(seg, w, got, maxBytes, pos, { atEof, checkStart, segStart: offset === 0 });
      checkStart = false;
      seq = w.seq;
      offset += w.used;
      if (end === 'full') {
        pos.note(seq, offset, true);
        return false;
      }
      if (end === 'torn') {
        if (isLast) return false;
        throw new JournalCorruptError(
          `journal: ${seg.name} is corrupt at byte offset ${offset}: ${describeFailure(buf, w.used, frameEndAt(buf, w.used))}`,
          seg.name,
          offset,
        );
      }
      if (atEof) return true;
      // A frame larger than the window: a larger one from where it starts.
      if (w.used === 0) windowBytes *= 2;
    }
  }
}

/** How a window is to be judged: whether it reaches the end of the file, starts at a kept position, starts the segment. */
interface WindowKind {
  atEof: boolean;
  checkStart: boolean;
  segStart: boolean;
}

/**
 * Follows the frames of one window, adding those from `got.want` on. Ends 'more' when
 * the window is used up (or a frame runs past its end before the end of the file),
 * 'full' when `maxBytes` is reached, 'torn' at a frame that is not whole.
 */
function scan(seg: SeqFile, w: Window, got: Got, maxBytes: number, pos: SegmentPositions, kind: WindowKind): 'more' | 'full' | 'torn' {
  const { buf } = w;
  let p = 0;
  let runStart = -1;
  const starts: number[] = [];
  let result: 'more' | 'full' | 'torn' = 'more';
  for (; p < buf.length;) {
    const wanted = w.seq >= got.want;
    const next = wanted ? frameEndAt(buf, p) : frameSpanAt(buf, p);
    const cut = next === FRAME_SHORT && !kind.atEof;
    if (next < 0 && p === 0 && kind.checkStart && !cut) throw new StalePosition();
    if (cut) break;
    if (next < 0) {
      result = 'torn';
      break;
    }
    const seq = readSeq(buf, p);
    if (seq !== w.seq || (wanted && seq !== got.want)) {
      if (p === 0 && kind.checkStart) throw new StalePosition();
      if (kind.segStart && p === 0 && got.frames.length === 0 && seq > got.want) {
        // The log jumps over the seq asked for between two segments: that stretch exists
        // only in a snapshot (one taken ahead of the log), so it cannot be served from here.
        throw new JournalRangeError(
          `journal: records from seq ${got.want} are not in the log (${seg.name} starts at seq ${seq}; send a snapshot instead)`,
          got.want,
          seq,
        );
      }
      throw new JournalCorruptError(
        `journal: ${seg.name} has seq ${seq} at byte offset ${w.base + p} where seq ${wanted ? got.want : w.seq} was expected`,
        seg.name,
        w.base + p,
      );
    }
    if (wanted) {
      if (got.bytes > 0 && got.bytes + (next - p) > maxBytes) {
        result = 'full';
        break;
      }
      if (runStart < 0) runStart = p;
      starts.push(p);
      got.bytes += next - p;
      got.want = seq + 1;
    }
    pos.note(seq, w.base + p);
    w.seq = seq + 1;
    p = next;
  }
  w.used = p;
  if (starts.length > 0) copyRun(buf, runStart, p, starts, got.frames);
  return result;
}

/** What a read has so far: the frames, their bytes, and the next seq wanted. */
interface Got {
  frames: Uint8Array[];
  bytes: number;
  want: number;
}

/** One window of a segment: its bytes, where they start, the seq of the frame at `used`. */
interface Window {
  buf: Uint8Array;
  base: number;
  seq: number;
  used: number;
}

/** The frames starting at `starts` (and ending at the next start, the last at `end`) as views into one copy. */
function copyRun(buf: Uint8Array, runStart: number, end: number, starts: readonly number[], out: Uint8Array[]): void {
  const copy = buf.slice(runStart, end);
  for (let k = 0; k < starts.length; k++) {
    const a = starts[k]! - runStart;
    const b = (k + 1 < starts.length ? starts[k + 1]! : end) - runStart;
    out.push(copy.subarray(a, b));
  }
}
