/**
 * The record frame: how one journal record is laid out in a segment file.
 *
 *   offset 0        4                 8                                        8+bodyLen
 *          +--------+-----------------+----------------------------------------+
 *          |bodyLen | crc32c(body)    | body                                   |
 *          |u32 LE  | u32 LE          |                                        |
 *          +--------+-----------------+----------------------------------------+
 *                                     :                                        :
 *                                     +--------+--------+--------+-------------+
 *                                     | epoch  | seq lo | seq hi | payload ... |
 *                                     | u32 LE | u32 LE | u32 LE |             |
 *                                     +--------+--------+--------+-------------+
 *                                     body offset 0     4        8     12
 *
 * - bodyLen counts the body only (12 + payload length), so it is never 0 in a valid
 *   frame. A 0 there means we are looking at zero-filled space (a preallocated or torn
 *   tail), which is why it gets its own failure kind.
 * - The CRC covers the whole body including epoch and seq, so a flipped bit in the
 *   sequence number is caught just like one in the payload. The length is not covered;
 *   a damaged length shows up as a CRC mismatch or as a frame running past the end.
 * - seq is a u64 stored as two u32 halves (low half first, i.e. little-endian u64)
 *   because JavaScript numbers are exact only up to 2^53; it must be a safe integer.
 *
 * The payload is opaque to the journal.
 */
import { crc32c } from './crc32c';
import { JournalUsageError } from './errors';

/** Bytes before the body: bodyLen and CRC. */
export const FRAME_HEADER_BYTES = 8;
/** Bytes at the start of the body before the payload: epoch and seq. */
export const FRAME_BODY_HEADER_BYTES = 12;
/** Total bytes a frame adds around its payload. */
export const FRAME_OVERHEAD_BYTES = FRAME_HEADER_BYTES + FRAME_BODY_HEADER_BYTES;

const TWO_POW_32 = 0x1_0000_0000;

/** Size in bytes of the frame that `encodeFrame` produces for a payload of this length. */
export function frameSize(payloadLen: number): number {
  return FRAME_OVERHEAD_BYTES + payloadLen;
}

/**
 * Encodes one record. Exactly one allocation (the result); the header is written byte
 * by byte instead of through a DataView so that no helper object is created either,
 * since this runs once per update on the primary's hot path.
 */
export function encodeFrame(epoch: number, seq: number, payload: Uint8Array): Uint8Array {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffff_ffff) {
    throw new JournalUsageError(`frame epoch must be a u32, got ${epoch}`);
  }
  if (!Number.isSafeInteger(seq) || seq < 0) {
    throw new JournalUsageError(`frame seq must be a non-negative safe integer, got ${seq}`);
  }
  const bodyLen = FRAME_BODY_HEADER_BYTES + payload.length;
  const out = new Uint8Array(FRAME_HEADER_BYTES + bodyLen);
  out.set(payload, FRAME_OVERHEAD_BYTES);
  writeU32(out, 8, epoch);
  writeU32(out, 12, seq >>> 0);
  writeU32(out, 16, Math.floor(seq / TWO_POW_32));
  writeU32(out, 0, bodyLen);
  writeU32(out, 4, crc32c(out, FRAME_HEADER_BYTES, out.length));
  return out;
}

/**
 * Fills in the header of a frame whose payload was written in place after
 * FRAME_OVERHEAD_BYTES reserved bytes (the primary's hot path writes records straight
 * into the frame this way, with no copy). Returns the same bytes.
 */
export function sealFrame(frame: Uint8Array, epoch: number, seq: number): Uint8Array {
  if (frame.length < FRAME_OVERHEAD_BYTES) throw new JournalUsageError(`a frame needs at least ${FRAME_OVERHEAD_BYTES} bytes, got ${frame.length}`);
  writeU32(frame, 8, epoch);
  writeU32(frame, 12, seq >>> 0);
  writeU32(frame, 16, Math.floor(seq / TWO_POW_32));
  writeU32(frame, 0, frame.length - FRAME_HEADER_BYTES);
  writeU32(frame, 4, crc32c(frame, FRAME_HEADER_BYTES, frame.length));
  return frame;
}

/** Why a frame could not be decoded. */
export type FrameFailure =
  /** Not enough bytes left for the 8-byte header or for the body it announces. */
  | 'short'
  /**
   * The body's checksum does not match, or bodyLen is 1..11 (too small to hold epoch and
   * seq, which only damage can produce, so it is reported the same way as a bad CRC).
   */
  | 'crc'
  /** bodyLen is 0: zero-filled space, not a record. */
  | 'zero';

/** A successfully decoded frame. `payload` is a view into the input, not a copy. */
export interface DecodedFrame {
  epoch: number;
  seq: number;
  payload: Uint8Array;
  /** Offset just past this frame, where the next one starts. */
  next: number;
}

/** Internal status codes of `frameEndAt`; negative so they cannot be confused with offsets. */
export const FRAME_SHORT = -1;
export const FRAME_CRC = -2;
export const FRAME_ZERO = -3;

/**
 * Checks the frame starting at `offset` (with `end` as the end of valid data) and
 * returns the offset just past it, or FRAME_SHORT / FRAME_CRC / FRAME_ZERO. This is the
 * allocation-free primitive behind `decodeFrameAt`, used by recovery and replay, which
 * scan millions of frames and then read epoch and seq with `readEpoch` / `readSeq`.
 */
export function frameEndAt(buf: Uint8Array, offset: number, end = buf.length): number {
  const next = frameSpanAt(buf, offset, end);
  if (next < 0) return next;
  if (crc32c(buf, offset + FRAME_HEADER_BYTES, next) !== readU32(buf, offset + 4)) return FRAME_CRC;
  return next;
}

/**
 * Like `frameEndAt` without the checksum: for the replay pass over bytes that recovery
 * has just validated frame by frame (length, seq continuity and the file's size are
 * still checked by the caller, so a file that changed in between is still caught).
 */
export function frameSpanAt(buf: Uint8Array, offset: number, end = buf.length): number {
  if (end - offset < FRAME_HEADER_BYTES) return FRAME_SHORT;
  const bodyLen = readU32(buf, offset);
  if (bodyLen === 0) return FRAME_ZERO;
  const bodyStart = offset + FRAME_HEADER_BYTES;
  if (bodyLen > end - bodyStart) return FRAME_SHORT;
  if (bodyLen < FRAME_BODY_HEADER_BYTES) return FRAME_CRC;
  return bodyStart + bodyLen;
}

/** A sentence on why the frame at `off` failed (`code`, from frameEndAt), for error messages. */
export function describeFailure(buf: Uint8Array, off: number, code: number): string {
  const left = buf.length - off;
  if (code === FRAME_SHORT) {
    if (left < FRAME_HEADER_BYTES) return `only ${left} byte(s) left, too few for a record header`;
    return `the record announces a ${readU32(buf, off)}-byte body but only ${left - FRAME_HEADER_BYTES} bytes follow its header`;
  }
  if (code === FRAME_CRC) {
    const len = readU32(buf, off);
    return len < FRAME_BODY_HEADER_BYTES ? `impossible record body length ${len}` : `checksum mismatch in a ${len}-byte record`;
  }
  if (code === FRAME_ZERO) return 'zero record length (zero-filled bytes)';
  return `bad frame (status ${code})`;
}

/** Maps a negative `frameEndAt` status to its failure name. */
export function frameFailureName(code: number): FrameFailure {
  return code === FRAME_ZERO ? 'zero' : code === FRAME_CRC ? 'crc' : 'short';
}

/**
 * Decodes the frame at `offset`, verifying its CRC. Returns the decoded record, or the
 * failure kind as a string (test with `typeof r === 'string'`).
 */
export function decodeFrameAt(buf: Uint8Array, offset: number): DecodedFrame | FrameFailure {
  const next = frameEndAt(buf, offset);
  if (next < 0) return frameFailureName(next);
  return {
    epoch: readEpoch(buf, offset),
    seq: readSeq(buf, offset),
    payload: buf.subarray(offset + FRAME_OVERHEAD_BYTES, next),
    next,
  };
}

/** The epoch of the frame starting at `offset` (no validation). */
export function readEpoch(buf: Uint8Array, offset: number): number {
  return readU32(buf, offset + 8);
}

/** The seq of the frame starting at `offset` (no validation). */
export function readSeq(buf: Uint8Array, offset: number): number {
  return readU32(buf, offset + 12) + readU32(buf, offset + 16) * TWO_POW_32;
}

/** The seq of an encoded frame, without decoding or checking the payload. */
export function frameSeq(frame: Uint8Array): number {
  return readSeq(frame, 0);
}

/** The epoch of an encoded frame, without decoding or checking the payload. */
export function frameEpoch(frame: Uint8Array): number {
  return readEpoch(frame, 0);
}

function readU32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}
