/**
 * The snapshot body (inside the journal's snapshot file, which adds magic, seq, epoch
 * and a CRC): a sequence of MessagePack values, encoded a chunk at a time so a large
 * node keeps serving between chunks.
 *
 *   +--------------------------------------------+
 *   | header  { v: 1, seq, epoch, assets, dedupe } |  (numbers as float64: a fixed size)
 *   | ["a", [[asset, model, version, seq, state], ...]]   x ceil(assets / chunk)
 *   | ["d", [[id, asset, op, args, seq, ts, reply], ...]] x ceil(dedupe / chunk)
 *   +--------------------------------------------+
 */
import { MsgReader, MsgWriter, unpackMsgpackMultiple } from '@txtest/protocol';
import { SnapshotFormatError } from './errors';
import { dedupeRow, type Processor, type SnapshotImage } from './processor';
import type { SnapshotAsset, SnapshotDedupe, SnapshotSource } from './snapshot-walk';

/**
 * Items per chunk of the file: what a loader decodes and installs between two pauses
 * (at a million accounts 4,096 took up to 28 ms to load, enough to delay a joiner's
 * heartbeats; 1,024 at most 9 ms).
 */
const CHUNK_ITEMS = 1024;
/**
 * Chunks encoded between two pauses of the writer. Written from the columns, a chunk
 * takes about 0.4 ms, so 8 are 3-4 ms of work (9 ms at worst, alone). A pause per chunk
 * made a snapshot wait for two thousand event-loop turns, each tens of milliseconds
 * under load: 30-90 s per snapshot at a million accounts, and a node restarted meanwhile
 * replayed millions of records.
 */
const CHUNKS_PER_PAUSE = 8;

/**
 * Chunks loaded between two pauses of the loader. A chunk of remembered requests, read
 * from its bytes, takes about 1.7 ms at a full window alone, one of assets about as
 * long; a pause is a timer of at least 1 ms, so one per chunk doubled a load (5,900
 * chunks at a million accounts and five million ids). Four are about 7 ms of work.
 */
const CHUNKS_PER_LOAD_PAUSE = 4;

/** The body header's keys, in the order they are written. */
const HEADER_KEYS = ['v', 'seq', 'epoch', 'assets', 'dedupe'] as const;

/**
 * Bytes of the body header as `encodeSnapshotTo` writes it: a map whose numbers are all
 * float64 (MessagePack 0xcb), so its size does not depend on the counts it holds and a
 * writer can reserve its place before the walk has counted anything.
 */
export const SNAPSHOT_BODY_HEADER_BYTES = 1 + HEADER_KEYS.reduce((n, k) => n + 1 + k.length + 9, 0);

function encodeBodyHeader(h: BodyHeader): Uint8Array {
  const out = new Uint8Array(SNAPSHOT_BODY_HEADER_BYTES);
  const dv = new DataView(out.buffer);
  out[0] = 0x80 | HEADER_KEYS.length; // fixmap
  let o = 1;
  for (const k of HEADER_KEYS) {
    out[o++] = 0xa0 | k.length; // fixstr (ASCII keys)
    for (let i = 0; i < k.length; i++) out[o++] = k.charCodeAt(i);
    out[o++] = 0xcb;
    dv.setFloat64(o, h[k]);
    o += 8;
  }
  return out;
}

/**
 * Encodes a snapshot into `write`, one chunk at a time with a pause after each, and
 * returns the body header (SNAPSHOT_BODY_HEADER_BYTES), which belongs at the body's
 * start but counts the assets, so it is known only at the end: the caller has kept
 * its place. The source is read as it goes (a processor's SnapshotWalk) and a chunk is
 * not referenced once `write` has resolved, so neither an array of a million asset
 * tuples nor the encoded body is ever held.
 */
export async function encodeSnapshotTo(source: SnapshotSource, pause: () => Promise<void>, write: (chunk: Uint8Array) => Promise<void>): Promise<Uint8Array> {
  try {
    // Written straight from the store's and the table's columns into one writer, not
    // built as tuples and packed again: at a million accounts and a million remembered
    // ids that took 3.4 s of CPU, now under 1 s.
    const w = new MsgWriter();
    let assets = 0;
    let chunks = 0;
    for (const kind of ['a', 'd'] as const) {
      for (;;) {
        w.arrayHeader(2);
        w.str(kind);
        const n = kind === 'a' ? source.packAssets(CHUNK_ITEMS, w) : source.packDedupe(CHUNK_ITEMS, w);
        if (n === 0) break;
        if (kind === 'a') assets += n;
        await write(w.take());
        if (++chunks % CHUNKS_PER_PAUSE === 0) await pause();
      }
      w.discard();
    }
    return encodeBodyHeader({ v: 1, seq: source.seq, epoch: source.epoch, assets, dedupe: source.dedupeCount });
  } finally {
    source.end();
  }
}

/** The whole body as chunks (header first), for writeSnapshot and tests. */
export async function encodeSnapshot(source: SnapshotSource, pause: () => Promise<void>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [new Uint8Array(0)];
  chunks[0] = await encodeSnapshotTo(source, pause, async (c) => void chunks.push(c));
  return chunks;
}

/** A decoded (or hand-built) image as a source for `encodeSnapshot`. */
export function imageSource(image: SnapshotImage): SnapshotSource {
  let assetAt = 0;
  let dedupeAt = 0;
  return {
    seq: image.seq,
    epoch: image.epoch,
    dedupeCount: image.dedupe.length,
    nextAssets(max) {
      const out = image.assets.slice(assetAt, assetAt + max);
      assetAt += out.length;
      return out;
    },
    nextDedupe(max) {
      const out = image.dedupe.slice(dedupeAt, dedupeAt + max).map(dedupeRow);
      dedupeAt += out.length;
      return out;
    },
    packAssets(max, w) {
      const rows = this.nextAssets(max);
      w.value(rows);
      return rows.length;
    },
    packDedupe(max, w) {
      const rows = this.nextDedupe(max);
      w.value(rows);
      return rows.length;
    },
    end() {},
  };
}

interface BodyHeader {
  v: 1;
  seq: number;
  epoch: number;
  assets: number;
  dedupe: number;
}

function bodyHeader(value: unknown): BodyHeader {
  const h = value as Partial<BodyHeader> | undefined;
  if (h?.v !== 1 || typeof h.seq !== 'number' || typeof h.epoch !== 'number') throw new SnapshotFormatError('snapshot body has no version-1 header');
  return h as BodyHeader;
}

function bodyChunk(value: unknown): ['a', SnapshotAsset[]] | ['d', SnapshotDedupe[]] {
  const [tag] = value as [unknown];
  if (tag !== 'a' && tag !== 'd') throw new SnapshotFormatError(`snapshot body has an unknown chunk tag ${JSON.stringify(tag)}`);
  return value as ['a', SnapshotAsset[]] | ['d', SnapshotDedupe[]];
}

function checkCounts(h: BodyHeader, assets: number, dedupe: number): void {
  if (assets !== h.assets || dedupe !== h.dedupe) {
    throw new SnapshotFormatError(`snapshot body is incomplete: ${assets}/${h.assets} assets, ${dedupe}/${h.dedupe} dedupe entries`);
  }
}

function undecodable(err: unknown): SnapshotFormatError {
  return new SnapshotFormatError(`snapshot body cannot be decoded: ${(err as Error).message}`, { cause: err });
}

export function decodeSnapshot(body: Uint8Array): SnapshotImage {
  let values: unknown[];
  try {
    values = unpackMsgpackMultiple(body);
  } catch (err) {
    throw undecodable(err);
  }
  const header = bodyHeader(values[0]);
  const image: SnapshotImage = { seq: header.seq, epoch: header.epoch, assets: [], dedupe: [] };
  for (let i = 1; i < values.length; i++) {
    const [tag, items] = bodyChunk(values[i]);
    const into: unknown[] = tag === 'a' ? image.assets : image.dedupe;
    for (const it of items) into.push(it);
  }
  checkCounts(header, image.assets.length, image.dedupe.length);
  return image;
}

/**
 * Loads a snapshot body into `processor` a chunk at a time with `pause()` (a timer) in
 * between, so that a node installing a large snapshot keeps its heartbeats and acks
 * flowing. Asset chunks are decoded into values; remembered requests are read from
 * their bytes (DedupeTable.loadRows), since at a full dedupe window they are most of
 * the body. Returns the header's seq and epoch; the processor is left as after
 * loadSnapshot.
 */
export async function loadSnapshotSliced(
  processor: Processor,
  body: Uint8Array,
  pause: () => Promise<void>,
): Promise<{ seq: number; epoch: number; assets: number }> {
  const r = new MsgReader().reset(Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  const header = decoding(() => bodyHeader(r.done ? undefined : r.value()));
  let assets = 0;
  let dedupe = 0;
  processor.beginLoad(header.dedupe);
  let chunks = 0;
  while (!r.done) {
    const chunk = decoding(() => chunkHead(r));
    if (chunk.tag === 'a') {
      processor.loadAssets(header.seq, chunk.items);
      assets += chunk.items.length;
    } else {
      decoding(() => processor.loadDedupeRows(r, chunk.rows));
      dedupe += chunk.rows;
    }
    if (++chunks % CHUNKS_PER_LOAD_PAUSE === 0 && !r.done) await pause();
  }
  checkCounts(header, assets, dedupe);
  processor.endLoad(header.seq, header.epoch);
  return { seq: header.seq, epoch: header.epoch, assets };
}

/** A chunk's tag and, for assets, its items decoded; for remembered requests, how many rows follow. */
function chunkHead(r: MsgReader): { tag: 'a'; items: SnapshotAsset[] } | { tag: 'd'; rows: number } {
  if (r.arrayHeader() !== 2) throw new TypeError('a chunk is not a [tag, items] pair');
  const tag = r.str();
  if (tag === 'd') return { tag, rows: r.arrayHeader() };
  if (tag !== 'a') throw new SnapshotFormatError(`snapshot body has an unknown chunk tag ${JSON.stringify(tag)}`);
  const items = r.value();
  if (!Array.isArray(items)) throw new TypeError('an asset chunk holds no array');
  return { tag, items: items as SnapshotAsset[] };
}

/** Runs a step of the decoding, its failures reported as the body's. */
function decoding<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    throw err instanceof SnapshotFormatError ? err : undecodable(err);
  }
}
