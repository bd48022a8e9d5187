/**
 * The snapshot body (inside the journal's snapshot file, which adds magic, seq, epoch
 * and a CRC): a sequence of MessagePack values, encoded a chunk at a time so a large
 * node keeps serving between chunks.
 *
 *   +--------------------------------------------+
 *   | header  { v: 1, seq, epoch, assets, dedupe } |
 *   | ["a", [[asset, model, version, seq, state], ...]]   x ceil(assets / chunk)
 *   | ["d", [[id, asset, op, args, seq, ts, reply], ...]] x ceil(dedupe / chunk)
 *   +--------------------------------------------+
 */
import { packMsgpack, unpackMsgpackMultiple } from '@txtest/protocol';
import { SnapshotFormatError } from './errors';
import { dedupeRow, type SnapshotImage } from './processor';
import type { SnapshotAsset, SnapshotDedupe, SnapshotSource } from './snapshot-walk';

/** Items per chunk: a few milliseconds of encoding, between which the node serves. */
const CHUNK_ITEMS = 4096;

/**
 * Encodes a snapshot, pausing after every chunk. The source is read as it goes (a
 * processor's SnapshotWalk), so no array of a million asset tuples is ever built; the
 * header, which counts them, is written last into the first place.
 */
export async function encodeSnapshot(source: SnapshotSource, pause: () => Promise<void>): Promise<Uint8Array[]> {
  try {
    const chunks: Uint8Array[] = [new Uint8Array(0)];
    let assets = 0;
    for (let slice = source.nextAssets(CHUNK_ITEMS); slice.length > 0; slice = source.nextAssets(CHUNK_ITEMS)) {
      assets += slice.length;
      chunks.push(packMsgpack(['a', slice]));
      await pause();
    }
    for (let rows = source.nextDedupe(CHUNK_ITEMS); rows.length > 0; rows = source.nextDedupe(CHUNK_ITEMS)) {
      chunks.push(packMsgpack(['d', rows]));
      await pause();
    }
    chunks[0] = packMsgpack({ v: 1, seq: source.seq, epoch: source.epoch, assets, dedupe: source.dedupeCount });
    return chunks;
  } finally {
    source.end();
  }
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
    end() {},
  };
}

export function decodeSnapshot(body: Uint8Array): SnapshotImage {
  let values: unknown[];
  try {
    values = unpackMsgpackMultiple(body);
  } catch (err) {
    throw new SnapshotFormatError(`snapshot body cannot be decoded: ${(err as Error).message}`, { cause: err });
  }
  const header = values[0] as { v?: number; seq?: number; epoch?: number; assets?: number; dedupe?: number } | undefined;
  if (header?.v !== 1 || typeof header.seq !== 'number' || typeof header.epoch !== 'number') {
    throw new SnapshotFormatError('snapshot body has no version-1 header');
  }
  const image: SnapshotImage = { seq: header.seq, epoch: header.epoch, assets: [], dedupe: [] };
  for (let i = 1; i < values.length; i++) {
    const [tag, items] = values[i] as [string, unknown[]];
    if (tag === 'a') for (const it of items) image.assets.push(it as SnapshotAsset);
    else if (tag === 'd') for (const it of items) image.dedupe.push(it as SnapshotDedupe);
    else throw new SnapshotFormatError(`snapshot body has an unknown chunk tag ${JSON.stringify(tag)}`);
  }
  if (image.assets.length !== header.assets || image.dedupe.length !== header.dedupe) {
    throw new SnapshotFormatError(`snapshot body is incomplete: ${image.assets.length}/${header.assets} assets, ${image.dedupe.length}/${header.dedupe} dedupe entries`);
  }
  return image;
}
