import { describe, expect, it } from 'vitest';
import {
  compact,
  INCOMING_SNAPSHOT_NAME,
  IncomingSnapshot,
  MemoryLogStorage,
  newestSnapshotFile,
  readSnapshot,
  rollbackFloor,
  segmentName,
  SNAPSHOT_HEADER_BYTES,
  SnapshotCorruptError,
  snapshotName,
  writeSnapshot,
} from '../src/index';

/** A snapshot of `bytes` body bytes at `seq`, and the whole file. */
async function snapshotFile(s: MemoryLogStorage, seq: number, bytes: number): Promise<Uint8Array> {
  const body = Uint8Array.from({ length: bytes }, (_, i) => (i * 7 + seq) & 0xff);
  const name = await writeSnapshot(s, { seq, epoch: 3, chunks: [body.subarray(0, bytes >> 1), body.subarray(bytes >> 1)] });
  return s.files.get(name)!.slice();
}

/** Sends `file` to `into` in pieces of `piece` bytes, read with readAt as a sender does. */
async function stream(from: MemoryLogStorage, name: string, into: IncomingSnapshot, piece: number): Promise<void> {
  for (let at = 0; at < into.bytes; at += piece) expect(into.accept(at, await from.readAt(name, at, piece))).toBe(true);
}

describe('snapshot files streamed in pieces', () => {
  it('arrive in a part file, verify, and take their snapshot name only when placed', async () => {
    const primary = new MemoryLogStorage();
    const file = await snapshotFile(primary, 42, 10_000);
    const info = (await newestSnapshotFile(primary))!;
    expect(info).toMatchObject({ name: snapshotName(42), seq: 42, epoch: 3, bytes: file.length, bodyLen: 10_000 });

    const joiner = new MemoryLogStorage();
    const inc = await IncomingSnapshot.open(joiner, info.seq, info.bytes);
    await stream(primary, info.name, inc, 1000);
    expect(inc.complete).toBe(true);
    await inc.flushed();
    expect(inc.written).toBe(file.length);
    expect(await joiner.list()).toEqual([INCOMING_SNAPSHOT_NAME]);
    expect(await inc.verify()).toMatchObject({ seq: 42, epoch: 3, bodyLen: 10_000 });
    await inc.place();
    expect(await joiner.list()).toEqual([snapshotName(42)]);
    expect((await readSnapshot(joiner, snapshotName(42))).body).toEqual(file.subarray(SNAPSHOT_HEADER_BYTES));
  });

  it('take only the next piece: a gap or a repeat is refused and the transfer goes on from `expected`', async () => {
    const primary = new MemoryLogStorage();
    const file = await snapshotFile(primary, 5, 3000);
    const inc = await IncomingSnapshot.open(new MemoryLogStorage(), 5, file.length);
    expect(inc.accept(0, file.subarray(0, 1000))).toBe(true);
    expect(inc.accept(2000, file.subarray(2000, 3000))).toBe(false);
    expect(inc.accept(0, file.subarray(0, 1000))).toBe(false);
    expect(inc.expected).toBe(1000);
    expect(inc.accept(1000, file.subarray(1000))).toBe(true);
    expect(inc.complete).toBe(true);
    await expect(inc.verify()).resolves.toMatchObject({ seq: 5 });
  });

  it('that were damaged on the way fail verification, naming the file', async () => {
    const primary = new MemoryLogStorage();
    const file = await snapshotFile(primary, 9, 2000);
    file[SNAPSHOT_HEADER_BYTES + 100]! ^= 1;
    const inc = await IncomingSnapshot.open(new MemoryLogStorage(), 9, file.length);
    expect(inc.accept(0, file)).toBe(true);
    const err = await inc.verify().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SnapshotCorruptError);
    expect((err as Error).message).toMatch(/snapshot-0000000000000009\.snap received from the primary is corrupt: body checksum mismatch/);
  });

  it('newestSnapshotFile skips a damaged header and returns null without snapshots', async () => {
    const s = new MemoryLogStorage();
    expect(await newestSnapshotFile(s)).toBeNull();
    await snapshotFile(s, 10, 100);
    await snapshotFile(s, 20, 100);
    s.corrupt(snapshotName(20), 0);
    expect((await newestSnapshotFile(s))!.seq).toBe(10);
  });
});

describe('compaction and rollback around a running sync', () => {
  async function logWith(seqs: number[], snaps: number[]): Promise<MemoryLogStorage> {
    const s = new MemoryLogStorage();
    for (const q of seqs) s.files.set(segmentName(q), new Uint8Array(0));
    for (const q of snaps) await writeSnapshot(s, { seq: q, epoch: 1, chunks: [] });
    return s;
  }

  it('a pinned seq keeps its snapshot file and every segment after it', async () => {
    const s = await logWith([1, 100, 200, 300], [150, 250, 350]);
    const r = await compact(s, 350, 2, 150);
    expect(r.removedSnapshots).toEqual([]);
    expect(r.removedSegments).toEqual([segmentName(1)]);
    const unpinned = await compact(s, 350, 2);
    expect(unpinned.removedSnapshots).toEqual([snapshotName(150)]);
    expect(unpinned.removedSegments).toEqual([segmentName(100)]);
  });

  it('rollbackFloor: the oldest snapshot the log continues from, 0 for a log from seq 1', async () => {
    expect(rollbackFloor(await (await logWith([1, 50], [])).list(), 80)).toBe(0);
    expect(rollbackFloor(await (await logWith([101, 200], [100, 180])).list(), 250)).toBe(100);
    expect(rollbackFloor(await (await logWith([201], [100, 200])).list(), 250)).toBe(200);
    expect(rollbackFloor(await (await logWith([301], [100])).list(), 350)).toBe(350);
    expect(rollbackFloor([], 0)).toBe(0);
  });
});
