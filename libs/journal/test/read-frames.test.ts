import { describe, expect, it } from 'vitest';
import { compact, frameSeq, JournalCorruptError, JournalRangeError, MemoryLogStorage, readFrames, writeSnapshot } from '../src/index';
import { frameOffsets, segmentsIn, writeLog } from './helpers';

describe('readFrames', () => {
  it('readFrames: records compacted away raise JournalRangeError with the first seq still held', async () => {
    const s = new MemoryLogStorage();
    await writeLog(s, { to: 60 });
    await writeSnapshot(s, { seq: 40, epoch: 1, chunks: [] });
    await compact(s, 40, 1);
    const first = Number((await segmentsIn(s))[0]!.slice(0, 16));
    expect(first).toBeGreaterThan(1);
    const err = (await readFrames(s, 1, 1000).catch((e: unknown) => e)) as JournalRangeError;
    expect(err).toBeInstanceOf(JournalRangeError);
    expect(err.firstSeq).toBe(first);
    expect((await readFrames(s, first, 1 << 20)).map(frameSeq)[0]).toBe(first);
  });

  it('readFrames: a partial frame at the end of the newest segment (a write in progress) ends the result', async () => {
    const s = new MemoryLogStorage();
    await writeLog(s, { to: 10, segmentBytesMax: 1 << 20 });
    const [seg] = await segmentsIn(s);
    const offs = await frameOffsets(s, seg!);
    s.cut(seg!, offs[9]! + 11);
    expect((await readFrames(s, 5, 1 << 20)).map(frameSeq)).toEqual([5, 6, 7, 8, 9]);
  });

  it('readFrames: damage before the end of the data throws JournalCorruptError', async () => {
    const s = new MemoryLogStorage();
    await writeLog(s, { to: 30 });
    const segs = await segmentsIn(s);
    s.corrupt(segs[0]!, 30);
    await expect(readFrames(s, 1, 1 << 20)).rejects.toBeInstanceOf(JournalCorruptError);
  });

  it('readFrames: returned frames do not alias the storage buffers', async () => {
    const s = new MemoryLogStorage();
    await writeLog(s, { to: 5 });
    const frames = await readFrames(s, 2, 1 << 20);
    expect(frames.map(frameSeq)).toEqual([2, 3, 4, 5]);
    expect(new Set(frames.map((f) => f.buffer)).size).toBe(1);
    expect(frames[0]!.buffer.byteLength).toBe(frames.reduce((n, f) => n + f.length, 0));
  });
});

describe('readFrames and concurrent compaction', () => {
  it('readFrames: a segment deleted between list and read is handled by looking again', async () => {
    const s = new MemoryLogStorage();
    await writeLog(s, { to: 60 });
    const segs = await segmentsIn(s);
    const realReadAt = s.readAt.bind(s);
    let raced = false;
    s.readAt = async (name: string, offset: number, length: number) => {
      if (!raced && name === segs[0]) {
        raced = true;
        await s.remove(name); // compaction wins the race
      }
      return realReadAt(name, offset, length);
    };
    const err = (await readFrames(s, 1, 1 << 20).catch((e: unknown) => e)) as JournalRangeError;
    expect(raced).toBe(true);
    expect(err).toBeInstanceOf(JournalRangeError);
    expect(err.firstSeq).toBe(Number(segs[1]!.slice(0, 16)));
  });
});
