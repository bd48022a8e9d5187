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
import { dedupeRow, type SnapshotAsset, type SnapshotDedupe, type SnapshotImage } from './processor';

const CHUNK_ITEMS = 4096;

export async function encodeSnapshot(image: SnapshotImage, pause: () => Promise<void>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [packMsgpack({ v: 1, seq: image.seq, epoch: image.epoch, assets: image.assets.length, dedupe: image.dedupe.length })];
  for (let i = 0; i < image.assets.length; i += CHUNK_ITEMS) {
    chunks.push(packMsgpack(['a', image.assets.slice(i, i + CHUNK_ITEMS)]));
    await pause();
  }
  for (let i = 0; i < image.dedupe.length; i += CHUNK_ITEMS) {
    chunks.push(packMsgpack(['d', image.dedupe.slice(i, i + CHUNK_ITEMS).map(dedupeRow)]));
    await pause();
  }
  return chunks;
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
