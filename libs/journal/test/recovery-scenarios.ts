/**
 * The recovery scenarios, written once against the LogStorage interface and run both
 * on MemoryLogStorage (journal tests) and on FsLogStorage (storage-fs tests).
 */
import { afterEach, expect, it } from 'vitest';
import {
  compact,
  encodeFrame,
  JournalCorruptError,
  LogWriter,
  readFrames,
  recover,
  segmentName,
  snapshotName,
  writeSnapshot,
  type LogStorage,
} from '../src/index';
import { appendBytes, bytesEqual, flipByte, frameOffsets, overwrite, payloadFor, segmentsIn, sizeOf, warnings, writeLog, writeRawSegment } from './helpers';

export interface StorageFixture {
  storage: LogStorage;
  cleanup(): Promise<void>;
}

/** Replays everything from `from` and checks seqs, epochs and payload bytes. */
async function replayAll(rec: Awaited<ReturnType<typeof recover>>, from: number, epochOf: (s: number) => number = () => 1): Promise<number[]> {
  const seqs: number[] = [];
  const n = await rec.replay(from, (epoch, seq, payload, frame) => {
    seqs.push(seq);
    expect(epoch).toBe(epochOf(seq));
    if (!bytesEqual(payload, payloadFor(seq))) throw new Error(`payload of seq ${seq} differs`);
    if (!bytesEqual(frame, encodeFrame(epoch, seq, payload))) throw new Error(`frame of seq ${seq} differs`);
  });
  expect(n).toBe(seqs.length);
  return seqs;
}

function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i <= b; i++) out.push(i);
  return out;
}

export function recoveryScenarios(make: () => Promise<StorageFixture>): void {
  let fixture: StorageFixture | null = null;
  const open = async (): Promise<LogStorage> => {
    fixture = await make();
    return fixture.storage;
  };
  afterEach(async () => {
    await fixture?.cleanup();
    fixture = null;
  });

  it('recovery: an empty storage recovers as seq 0, epoch 0, no snapshot', async () => {
    const s = await open();
    const w = warnings();
    const rec = await recover(s, w);
    expect(rec).toMatchObject({ snapshot: null, lastSeq: 0, lastEpoch: 0, segments: [] });
    expect(await rec.replay(1, () => {})).toBe(0);
    expect(w.list).toEqual([]);
  });

  it('recovery: a clean multi-segment log replays every record in order', async () => {
    const s = await open();
    const epochOf = (seq: number) => (seq <= 40 ? 1 : 2);
    await writeLog(s, { to: 100, epochOf });
    const segs = await segmentsIn(s);
    expect(segs.length).toBeGreaterThan(3);
    const w = warnings();
    const rec = await recover(s, w);
    expect(w.list).toEqual([]);
    expect(rec.lastSeq).toBe(100);
    expect(rec.lastEpoch).toBe(2);
    expect(rec.epochStarts).toEqual([
      [1, 1],
      [2, 41],
    ]);
    expect(rec.segments).toEqual(segs);
    expect(await replayAll(rec, 1, epochOf)).toEqual(range(1, 100));
    expect(await replayAll(rec, 57, epochOf)).toEqual(range(57, 100));
  });

  it('recovery: a torn last record (cut mid-record) is truncated with a warning', async () => {
    const s = await open();
    await writeLog(s, { to: 30 });
    const last = (await segmentsIn(s)).at(-1)!;
    const offs = await frameOffsets(s, last);
    const lastStart = offs.at(-1)!;
    await s.truncate(last, lastStart + 13); // header and part of the body of seq 30
    const w = warnings();
    const rec = await recover(s, w);
    expect(rec.lastSeq).toBe(29);
    expect(w.list).toHaveLength(1);
    expect(w.list[0]).toContain(`truncated torn tail of ${last} at offset ${lastStart} (13 bytes`);
    expect(await sizeOf(s, last)).toBe(lastStart);
    expect(await replayAll(rec, 1)).toEqual(range(1, 29));
    // The repair is durable and complete: a second recovery has nothing to say.
    const again = warnings();
    expect((await recover(s, again)).lastSeq).toBe(29);
    expect(again.list).toEqual([]);
  });

  it('recovery: a torn header (fewer than 8 bytes) at the end is truncated', async () => {
    const s = await open();
    await writeLog(s, { to: 12 });
    const last = (await segmentsIn(s)).at(-1)!;
    const size = await sizeOf(s, last);
    await appendBytes(s, last, Uint8Array.of(0x30, 0, 0));
    const w = warnings();
    const rec = await recover(s, w);
    expect(rec.lastSeq).toBe(12);
    expect(w.list[0]).toContain(`truncated torn tail of ${last} at offset ${size} (3 bytes`);
  });

  it('recovery: a zero-filled tail is truncated', async () => {
    const s = await open();
    await writeLog(s, { to: 20 });
    const last = (await segmentsIn(s)).at(-1)!;
    const size = await sizeOf(s, last);
    await appendBytes(s, last, new Uint8Array(4096));
    const w = warnings();
    const rec = await recover(s, w);
    expect(rec.lastSeq).toBe(20);
    expect(w.list[0]).toContain(`truncated torn tail of ${last} at offset ${size} (4096 bytes`);
    expect(await sizeOf(s, last)).toBe(size);
  });

  it('recovery: a last record with a bad checksum is truncated', async () => {
    const s = await open();
    await writeLog(s, { to: 20 });
    const last = (await segmentsIn(s)).at(-1)!;
    const lastStart = (await frameOffsets(s, last)).at(-1)!;
    await flipByte(s, last, lastStart + 25);
    const w = warnings();
    const rec = await recover(s, w);
    expect(rec.lastSeq).toBe(19);
    expect(w.list[0]).toContain(`truncated torn tail of ${last} at offset ${lastStart}`);
    expect(await replayAll(rec, 1)).toEqual(range(1, 19));
  });

  it('recovery: a corrupt record in the middle of the last segment throws JournalCorruptError naming file and offset', async () => {
    const s = await open();
    await writeLog(s, { to: 20, segmentBytesMax: 1 << 20 });
    const [seg] = await segmentsIn(s);
    const offs = await frameOffsets(s, seg!);
    const bad = offs[5]!; // seq 6
    await flipByte(s, seg!, bad + 22);
    const before = await sizeOf(s, seg!);
    const err = await recover(s, warnings()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JournalCorruptError);
    const e = err as JournalCorruptError;
    expect(e.name).toBe('JournalCorruptError');
    expect(e.file).toBe(seg);
    expect(e.offset).toBe(bad);
    expect(e.message).toContain(seg!);
    expect(e.message).toContain(`offset ${bad}`);
    expect(e.message).toContain('--repair-log');
    expect(e.message).toContain('up to seq 5');
    // Refusing to start must not change anything.
    expect(await sizeOf(s, seg!)).toBe(before);
  });

  it('recovery: a corrupt record in an older segment throws, even at its end', async () => {
    const s = await open();
    await writeLog(s, { to: 60 });
    const segs = await segmentsIn(s);
    const older = segs[1]!;
    const lastStart = (await frameOffsets(s, older)).at(-1)!;
    await flipByte(s, older, lastStart + 21);
    const err = (await recover(s, warnings()).catch((e: unknown) => e)) as JournalCorruptError;
    expect(err).toBeInstanceOf(JournalCorruptError);
    expect(err.file).toBe(older);
    expect(err.offset).toBe(lastStart);
    expect(err.message).toContain('not the newest');
  });

  it('recovery: a damaged length field in the middle is not mistaken for a torn tail', async () => {
    const s = await open();
    await writeLog(s, { to: 20, segmentBytesMax: 1 << 20 });
    const [seg] = await segmentsIn(s);
    const bad = (await frameOffsets(s, seg!))[10]!;
    // A huge length makes the frame "run past the end", which alone looks torn.
    await overwrite(s, seg!, bad, Uint8Array.of(0xff, 0xff, 0xff, 0x0f));
    const err = (await recover(s, warnings()).catch((e: unknown) => e)) as JournalCorruptError;
    expect(err).toBeInstanceOf(JournalCorruptError);
    expect(err.offset).toBe(bad);
  });

  it('recovery: repair mode truncates at the damage and deletes later segments, loudly', async () => {
    const s = await open();
    await writeLog(s, { to: 60 });
    const segs = await segmentsIn(s);
    const victim = segs[2]!;
    const offs = await frameOffsets(s, victim);
    const firstSeq = Number(victim.slice(0, 16));
    await flipByte(s, victim, offs[1]! + 30); // the second record of that segment
    const w = warnings();
    const rec = await recover(s, { repair: true, warn: w.warn });
    expect(rec.lastSeq).toBe(firstSeq);
    expect(w.list).toHaveLength(1);
    expect(w.list[0]).toContain('REPAIR');
    expect(w.list[0]).toContain(`${victim} is corrupt at byte offset ${offs[1]}`);
    expect(w.list[0]).toContain(`ends at seq ${firstSeq}`);
    expect(await segmentsIn(s)).toEqual(segs.slice(0, 3));
    expect(await sizeOf(s, victim)).toBe(offs[1]);
    expect(await replayAll(rec, 1)).toEqual(range(1, firstSeq));
    const again = warnings();
    expect((await recover(s, again)).lastSeq).toBe(firstSeq);
    expect(again.list).toEqual([]);
  });

  it('recovery: a seq gap inside a segment throws, and repair cuts there', async () => {
    const s = await open();
    const seg = await writeRawSegment(
      s,
      [1, 2, 3, 5, 6].map((seq) => ({ seq, epoch: 1 })),
    );
    const offs = await frameOffsets(s, seg);
    const err = (await recover(s, warnings()).catch((e: unknown) => e)) as JournalCorruptError;
    expect(err).toBeInstanceOf(JournalCorruptError);
    expect(err.offset).toBe(offs[3]);
    expect(err.message).toContain('seq 5, but seq 4 was expected');
    const rec = await recover(s, { repair: true, warn: () => {} });
    expect(rec.lastSeq).toBe(3);
  });

  it('recovery: a missing segment (seq gap between segments) throws', async () => {
    const s = await open();
    await writeLog(s, { to: 60 });
    const segs = await segmentsIn(s);
    await s.remove(segs[2]!);
    const err = (await recover(s, warnings()).catch((e: unknown) => e)) as JournalCorruptError;
    expect(err).toBeInstanceOf(JournalCorruptError);
    expect(err.file).toBe(segs[3]);
    expect(err.offset).toBe(0);
  });

  it('recovery: a decreasing epoch throws', async () => {
    const s = await open();
    await writeRawSegment(s, [
      { seq: 1, epoch: 2 },
      { seq: 2, epoch: 2 },
      { seq: 3, epoch: 1 },
      { seq: 4, epoch: 2 },
    ]);
    const err = (await recover(s, warnings()).catch((e: unknown) => e)) as JournalCorruptError;
    expect(err).toBeInstanceOf(JournalCorruptError);
    expect(err.message).toContain('epoch 1, lower than');
  });

  it('recovery: a snapshot plus the log tail after it', async () => {
    const s = await open();
    await writeLog(s, { to: 50 });
    const body = new TextEncoder().encode('state as of 30');
    await writeSnapshot(s, { seq: 30, epoch: 1, chunks: [body.subarray(0, 5), body.subarray(5)] });
    const rec = await recover(s, warnings());
    expect(rec.snapshot?.seq).toBe(30);
    expect(rec.snapshot?.epoch).toBe(1);
    expect(new TextDecoder().decode(rec.snapshot!.body)).toBe('state as of 30');
    expect(rec.lastSeq).toBe(50);
    expect(await replayAll(rec, 31)).toEqual(range(31, 50));
    // Segments wholly before the snapshot are not needed (nor read).
    expect(Number(rec.segments[0]!.slice(0, 16))).toBeLessThanOrEqual(31);
    expect(rec.segments.length).toBeLessThan((await segmentsIn(s)).length);
  });

  it('recovery: after a snapshot, only the epoch starts the scanned records show are reported', async () => {
    const s = await open();
    const epochOf = (seq: number) => (seq <= 40 ? 1 : seq <= 70 ? 2 : 4);
    await writeLog(s, { to: 90, epochOf });
    await writeSnapshot(s, { seq: 50, epoch: 2, chunks: [Uint8Array.of(1)] });
    const rec = await recover(s, warnings());
    // The scan begins in the segment holding seq 51, whose first record's predecessor it
    // never reads: no start is claimed there, and every start claimed is a real one.
    expect(rec.epochStarts.at(-1)).toEqual([4, 71]);
    for (const start of rec.epochStarts)
      expect([
        [1, 1],
        [2, 41],
        [4, 71],
      ]).toContainEqual(start);
    expect(rec.epochStarts.some(([, first]) => first > 41 && first < 71)).toBe(false);
  });

  it('recovery: damage in a segment wholly covered by the snapshot does not stop recovery', async () => {
    const s = await open();
    await writeLog(s, { to: 60 });
    const segs = await segmentsIn(s);
    await flipByte(s, segs[0]!, 30);
    await writeSnapshot(s, { seq: 40, epoch: 1, chunks: [] });
    const rec = await recover(s, warnings());
    expect(rec.lastSeq).toBe(60);
    expect(await replayAll(rec, 41)).toEqual(range(41, 60));
  });

  it('recovery: a snapshot ahead of the log end (log ends earlier) recovers to the snapshot seq', async () => {
    const s = await open();
    await writeLog(s, { to: 20 });
    await writeSnapshot(s, { seq: 25, epoch: 3, chunks: [Uint8Array.of(1)] });
    const rec = await recover(s, warnings());
    expect(rec.lastSeq).toBe(25);
    expect(rec.lastEpoch).toBe(3);
    expect(await rec.replay(26, () => {})).toBe(0);
    // The writer continues at 26 in a new segment, and the log recovers again cleanly.
    await writeLog(s, { from: 26, to: 40, epochOf: () => 3 });
    const again = await recover(s, warnings());
    expect(again.lastSeq).toBe(40);
    expect(await replayAll(again, 26, () => 3)).toEqual(range(26, 40));
  });

  it('recovery: a corrupt newest snapshot falls back to the older one', async () => {
    const s = await open();
    await writeLog(s, { to: 60 });
    await writeSnapshot(s, { seq: 20, epoch: 1, chunks: [Uint8Array.of(20)] });
    await writeSnapshot(s, { seq: 40, epoch: 1, chunks: [Uint8Array.of(40, 40, 40)] });
    await compact(s, 40);
    const newest = snapshotName(40);
    await flipByte(s, newest, 37);
    const w = warnings();
    const rec = await recover(s, w);
    expect(rec.snapshot?.seq).toBe(20);
    expect(rec.snapshot!.body).toEqual(Uint8Array.of(20));
    expect(w.list).toHaveLength(1);
    expect(w.list[0]).toContain(newest);
    expect(w.list[0]).toContain('checksum');
    // compact kept the log back to the older snapshot, so the fallback is complete.
    expect(await replayAll(rec, 21)).toEqual(range(21, 60));
  });

  it('recovery: a truncated snapshot is skipped with a warning naming it', async () => {
    const s = await open();
    await writeLog(s, { to: 10 });
    await writeSnapshot(s, { seq: 10, epoch: 1, chunks: [new Uint8Array(100)] });
    await s.truncate(snapshotName(10), 50);
    const w = warnings();
    const rec = await recover(s, w);
    expect(rec.snapshot).toBeNull();
    expect(w.list[0]).toContain(snapshotName(10));
    expect(rec.lastSeq).toBe(10);
  });

  it('recovery: the log starting after the snapshot (missing history) is an error', async () => {
    const s = await open();
    await writeRawSegment(
      s,
      range(10, 15).map((seq) => ({ seq, epoch: 1 })),
    );
    await writeSnapshot(s, { seq: 5, epoch: 1, chunks: [] });
    const err = (await recover(s, warnings()).catch((e: unknown) => e)) as JournalCorruptError;
    expect(err).toBeInstanceOf(JournalCorruptError);
    expect(err.message).toContain('records 6..9 are missing');
    expect(err.file).toBe(segmentName(10));
    const w = warnings();
    const rec = await recover(s, { repair: true, warn: w.warn });
    expect(rec.lastSeq).toBe(5);
    expect(await segmentsIn(s)).toEqual([]);
  });

  it('recovery: compact deletes covered segments and old snapshots, never the newest segment', async () => {
    const s = await open();
    await writeLog(s, { to: 80 });
    const segs = await segmentsIn(s);
    await writeSnapshot(s, { seq: 10, epoch: 1, chunks: [] });
    await writeSnapshot(s, { seq: 30, epoch: 1, chunks: [] });
    await writeSnapshot(s, { seq: 50, epoch: 1, chunks: [] });
    const res = await compact(s, 50, 2);
    expect(res.removedSnapshots).toEqual([snapshotName(10)]);
    // Bounded by the oldest snapshot kept (30): segments whose successor starts <= 31 go.
    const firsts = segs.map((n) => Number(n.slice(0, 16)));
    const expectedRemoved = segs.filter((_, i) => i + 1 < segs.length && firsts[i + 1]! <= 31);
    expect(res.removedSegments).toEqual(expectedRemoved);
    expect(expectedRemoved.length).toBeGreaterThan(0);
    expect(await segmentsIn(s)).toEqual(segs.filter((n) => !expectedRemoved.includes(n)));
    const rec = await recover(s, warnings());
    expect(rec.snapshot?.seq).toBe(50);
    expect(await replayAll(rec, 51)).toEqual(range(51, 80));

    // With one snapshot kept, everything covered by it goes except the newest segment.
    await writeSnapshot(s, { seq: 80, epoch: 1, chunks: [] });
    const res2 = await compact(s, 80, 1);
    expect(res2.removedSnapshots).toEqual([snapshotName(30), snapshotName(50)]);
    expect(await segmentsIn(s)).toEqual([segs.at(-1)]);
    expect((await recover(s, warnings())).lastSeq).toBe(80);
  });

  it('recovery: truncateAfter drops later records and the log continues from there', async () => {
    const s = await open();
    await writeLog(s, { to: 60, epochOf: () => 1 });
    const rec = await recover(s, warnings());
    const writer = new LogWriter({
      storage: s,
      lastSeq: rec.lastSeq,
      lastEpoch: rec.lastEpoch,
      segmentBytesMax: 1024,
      defer: (fn) => queueMicrotask(fn),
      onError: (err) => {
        throw err;
      },
    });
    await writer.truncateAfter(23);
    expect(writer.lastSeq).toBe(23);
    expect(writer.lastEpoch).toBe(1);
    for (let seq = 24; seq <= 40; seq++) writer.append(encodeFrame(2, seq, payloadFor(seq)));
    await writer.close();
    const after = await recover(s, warnings());
    expect(after.lastSeq).toBe(40);
    expect(after.lastEpoch).toBe(2);
    expect(await replayAll(after, 1, (seq) => (seq <= 23 ? 1 : 2))).toEqual(range(1, 40));
  });

  it('recovery: readFrames serves frames from a seq across segments, bounded by bytes', async () => {
    const s = await open();
    await writeLog(s, { to: 60 });
    const frames = await readFrames(s, 17, 1 << 20);
    expect(frames.map((f) => f[12]! | (f[13]! << 8))).toEqual(range(17, 60));
    for (const f of frames) {
      const seq = f[12]! | (f[13]! << 8);
      expect(bytesEqual(f, encodeFrame(1, seq, payloadFor(seq)))).toBe(true);
    }
    const limited = await readFrames(s, 17, 500);
    const total = limited.reduce((n, f) => n + f.length, 0);
    expect(total).toBeLessThanOrEqual(500);
    expect(limited.length).toBeGreaterThan(2);
    expect(bytesEqual(limited[0]!, frames[0]!)).toBe(true);
    // At least one frame even when it alone exceeds the budget.
    expect(await readFrames(s, 17, 1)).toHaveLength(1);
    expect(await readFrames(s, 61, 1000)).toEqual([]);
  });
}
