import { describe, expect, it } from 'vitest';
import {
  crc32c,
  MemoryLogStorage,
  readNewestSnapshot,
  readSnapshot,
  SNAPSHOT_HEADER_BYTES,
  SnapshotCorruptError,
  snapshotName,
  writeSnapshot,
} from '../src/index';

describe('snapshot', () => {
  it('snapshot: the file layout is magic, version, epoch, seq, bodyLen, crc32c(body), body', async () => {
    const s = new MemoryLogStorage();
    const name = await writeSnapshot(s, { seq: 2 ** 33 + 5, epoch: 9, chunks: [Uint8Array.of(1, 2), Uint8Array.of(3)] });
    expect(name).toBe('snapshot-0000008589934597.snap');
    const f = s.files.get(name)!;
    const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
    expect(new TextDecoder().decode(f.subarray(0, 8))).toBe('TXSNAP1\0');
    expect(dv.getUint32(8, true)).toBe(1);
    expect(dv.getUint32(12, true)).toBe(9);
    expect(dv.getUint32(16, true)).toBe(5);
    expect(dv.getUint32(20, true)).toBe(2);
    expect(dv.getUint32(24, true)).toBe(3);
    expect(dv.getUint32(28, true)).toBe(0);
    expect(dv.getUint32(32, true)).toBe(crc32c(Uint8Array.of(1, 2, 3)));
    expect(f.length).toBe(SNAPSHOT_HEADER_BYTES + 3);
    const snap = await readSnapshot(s, name);
    expect(snap).toMatchObject({ name, seq: 2 ** 33 + 5, epoch: 9 });
    expect(snap.body).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('snapshot: a header whose seq disagrees with the file name is rejected', async () => {
    const s = new MemoryLogStorage();
    const name = await writeSnapshot(s, { seq: 7, epoch: 1, chunks: [] });
    s.files.set(snapshotName(8), s.files.get(name)!);
    await expect(readSnapshot(s, snapshotName(8))).rejects.toBeInstanceOf(SnapshotCorruptError);
  });

  it('snapshot: readNewestSnapshot returns null when no snapshot validates, warning per file', async () => {
    const s = new MemoryLogStorage();
    expect(await readNewestSnapshot(s, () => expect.fail())).toBeNull();
    await writeSnapshot(s, { seq: 1, epoch: 1, chunks: [Uint8Array.of(5)] });
    await writeSnapshot(s, { seq: 2, epoch: 1, chunks: [Uint8Array.of(5)] });
    s.corrupt(snapshotName(1), 0);
    s.corrupt(snapshotName(2), SNAPSHOT_HEADER_BYTES);
    const warned: string[] = [];
    expect(await readNewestSnapshot(s, (m) => warned.push(m))).toBeNull();
    expect(warned).toHaveLength(2);
    expect(warned[0]).toContain(snapshotName(2));
    expect(warned[1]).toContain(snapshotName(1));
    expect(warned[1]).toContain('magic');
  });
});
