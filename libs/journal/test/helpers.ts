/**
 * Test helpers shared by the journal tests and (through a relative import) the
 * storage-fs tests. They only use the LogStorage interface, so the same scenarios run
 * against memory and real files.
 */
import { encodeFrame, LogWriter, segmentName, type LogStorage } from '../src/index';

/** A deterministic payload for a seq, 40..80 bytes, so tests can check replayed bytes. */
export function payloadFor(seq: number): Uint8Array {
  const len = 40 + (seq % 41);
  const p = new Uint8Array(len);
  for (let i = 0; i < len; i++) p[i] = (seq * 31 + i * 7) & 0xff;
  return p;
}

export interface RecordSpec {
  seq: number;
  epoch: number;
}

/**
 * Writes records `from..to` through a LogWriter (as production does), with `epochOf`
 * choosing each record's epoch, and closes the writer. Returns the writer's segments.
 */
export async function writeLog(
  storage: LogStorage,
  opts: { from?: number; to: number; epochOf?: (seq: number) => number; segmentBytesMax?: number; lastEpoch?: number },
): Promise<void> {
  const from = opts.from ?? 1;
  const epochOf = opts.epochOf ?? (() => 1);
  const writer = new LogWriter({
    storage,
    lastSeq: from - 1,
    lastEpoch: opts.lastEpoch ?? (from > 1 ? epochOf(from - 1) : 0),
    segmentBytesMax: opts.segmentBytesMax ?? 1024,
    defer: (fn) => queueMicrotask(fn),
    onError: (err) => {
      throw err;
    },
  });
  for (let seq = from; seq <= opts.to; seq++) {
    writer.append(encodeFrame(epochOf(seq), seq, payloadFor(seq)));
    // Yield now and then so that groups (and therefore segment rotations) happen.
    if (seq % 7 === 0) await writer.idle();
  }
  await writer.close();
}

/** Writes raw frames straight into one segment file, bypassing the writer's checks. */
export async function writeRawSegment(storage: LogStorage, records: RecordSpec[], name = segmentName(records[0]!.seq)): Promise<string> {
  const h = await storage.openAppend(name);
  await h.append(records.map((r) => encodeFrame(r.epoch, r.seq, payloadFor(r.seq))));
  await h.sync();
  await h.close();
  return name;
}

/** Byte offsets at which each frame of a segment starts (by walking bodyLen fields). */
export async function frameOffsets(storage: LogStorage, name: string): Promise<number[]> {
  const buf = await storage.read(name);
  const out: number[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    out.push(off);
    const len = (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
    if (len === 0) break;
    off += 8 + len;
  }
  return out;
}

/** Flips one byte of a file, through the storage interface (read, modify, replace). */
export async function flipByte(storage: LogStorage, name: string, offset: number, mask = 0xff): Promise<void> {
  const buf = (await storage.read(name)).slice();
  buf[offset]! ^= mask;
  await storage.writeAtomic(name, [buf]);
}

/** Overwrites bytes of a file at `offset`. */
export async function overwrite(storage: LogStorage, name: string, offset: number, bytes: Uint8Array): Promise<void> {
  const buf = (await storage.read(name)).slice();
  buf.set(bytes, offset);
  await storage.writeAtomic(name, [buf]);
}

/** Appends raw bytes to a file. */
export async function appendBytes(storage: LogStorage, name: string, bytes: Uint8Array): Promise<void> {
  const h = await storage.openAppend(name);
  await h.append([bytes]);
  await h.close();
}

/** Segment names currently in storage, oldest first. */
export async function segmentsIn(storage: LogStorage): Promise<string[]> {
  return (await storage.list()).filter((n) => n.endsWith('.log')).sort();
}

export async function sizeOf(storage: LogStorage, name: string): Promise<number> {
  return (await storage.read(name)).length;
}

/** Collects warnings for assertions. */
export function warnings(): { warn: (msg: string) => void; list: string[] } {
  const list: string[] = [];
  return { warn: (msg) => list.push(msg), list };
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
