import { describe, expect, it } from 'vitest';
import { encodeFrame, frameSeq, MemoryLogStorage, readFrames } from '../src/index';
import { frameOffsets, segmentsIn, writeLog } from './helpers';

/** A storage that counts the bytes its reads return. */
function counting(): { s: MemoryLogStorage; bytesRead: () => number } {
  const s = new MemoryLogStorage();
  let n = 0;
  const read = s.read.bind(s);
  const readAt = s.readAt.bind(s);
  s.read = async (name) => {
    const b = await read(name);
    n += b.length;
    return b;
  };
  s.readAt = async (name, offset, length) => {
    const b = await readAt(name, offset, length);
    n += b.length;
    return b;
  };
  return { s, bytesRead: () => n };
}

/** Every frame from `from` on, a chunk of `maxBytes` at a time, as a catch-up reads them. */
async function readAll(s: MemoryLogStorage, from: number, maxBytes: number): Promise<number[]> {
  const seqs: number[] = [];
  for (let next = from; ;) {
    const frames = await readFrames(s, next, maxBytes);
    if (frames.length === 0) return seqs;
    for (const f of frames) seqs.push(frameSeq(f));
    next = seqs[seqs.length - 1]! + 1;
  }
}

describe('readFrames positions (frame-reader.ts)', () => {
  it('a catch-up through one large segment reads about the segment once, not once per chunk', async () => {
    const { s, bytesRead } = counting();
    await writeLog(s, { to: 20_000, segmentBytesMax: 64 << 20 });
    const [seg] = await segmentsIn(s);
    const size = (await s.read(seg!)).length;
    const before = bytesRead();
    const seqs = await readAll(s, 1, 16 * 1024);
    expect(seqs).toEqual(Array.from({ length: 20_000 }, (_, i) => i + 1));
    // Each chunk reads its window (the chunk and a little more) from where the last one
    // ended; reading from the segment's start each time was some hundred times the size.
    expect(bytesRead() - before).toBeLessThan(4 * size);
  });

  it('a read in the middle of a segment starts near the seq asked for once the segment was read', async () => {
    const { s, bytesRead } = counting();
    await writeLog(s, { to: 20_000, segmentBytesMax: 64 << 20 });
    await readAll(s, 1, 1 << 20);
    const before = bytesRead();
    expect((await readFrames(s, 15_001, 4096)).map(frameSeq)[0]).toBe(15_001);
    // At most the window: the chunk and the frames since the nearest kept position.
    expect(bytesRead() - before).toBeLessThanOrEqual(4096 + 256 * 1024);
    expect((await readFrames(s, 15_002 + 0, 4096)).map(frameSeq)[0]).toBe(15_002);
  });

  it('a segment cut and written again with frames of other sizes is read right (the kept positions are checked)', async () => {
    const s = new MemoryLogStorage();
    await writeLog(s, { to: 6000, segmentBytesMax: 64 << 20 });
    const [seg] = await segmentsIn(s);
    expect((await readAll(s, 1, 8192)).length).toBe(6000);
    // Cut after seq 3000 and append 3001..6000 again with larger payloads: every position
    // kept beyond the cut now points into the middle of some frame.
    const offs = await frameOffsets(s, seg!);
    s.cut(seg!, offs[3000]!);
    const h = await s.openAppend(seg!);
    await h.append(Array.from({ length: 3000 }, (_, i) => encodeFrame(2, 3001 + i, new Uint8Array(37 + (i % 5)).fill(7))));
    await h.close();
    const frames = await readFrames(s, 4500, 1 << 20);
    expect(frames.map(frameSeq).slice(0, 3)).toEqual([4500, 4501, 4502]);
    expect(frames[0]!.length).toBe(encodeFrame(2, 4500, new Uint8Array(37 + (1499 % 5))).length);
    expect(await readAll(s, 2990, 8192)).toEqual(Array.from({ length: 3011 }, (_, i) => 2990 + i));
  });
});
