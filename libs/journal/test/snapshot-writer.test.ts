import { describe, expect, it } from 'vitest';
import {
  crc32c,
  crc32cCombine,
  MemoryLogStorage,
  readNewestSnapshot,
  readSnapshot,
  recover,
  SNAPSHOT_PART_NAME,
  SnapshotFileWriter,
  snapshotName,
  writeSnapshot,
  type LogStorage,
} from '../src/index';
import { writeLog } from './helpers';

/** Deterministic body chunks of various sizes (the first is the "head" a writer reserves). */
function chunks(seed: number, count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let c = 0; c < count; c++) {
    const len = c === 0 ? 72 : 1 + ((seed * 7919 + c * 104_729) % 5000);
    out.push(Uint8Array.from({ length: len }, (_, i) => (seed * 31 + c * 17 + i * 7) & 0xff));
  }
  return out;
}

/** Streams `body` (head first) through a SnapshotFileWriter, as a node does while encoding. */
async function stream(s: LogStorage, seq: number, epoch: number, body: Uint8Array[]): Promise<string> {
  const [head, ...rest] = body;
  const w = await SnapshotFileWriter.open(s, seq, epoch, head!.length);
  for (const c of rest) await w.append(c);
  return w.commit(head);
}

/** A memory storage whose appends to the part file fail after `okAppends` of them (a full disk). */
class FailingStorage extends MemoryLogStorage {
  constructor(private okAppends: number) {
    super();
  }

  override appendTo(name: string, parts: Uint8Array[]): void {
    if (name === SNAPSHOT_PART_NAME && this.okAppends-- <= 0) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    super.appendTo(name, parts);
  }
}

describe('crc32cCombine', () => {
  it('equals the CRC of the concatenation, for empty and long second parts', () => {
    for (const [la, lb] of [
      [0, 0],
      [9, 0],
      [0, 9],
      [13, 1000],
      [100, 65_537],
    ] as const) {
      const a = Uint8Array.from({ length: la }, (_, i) => (i * 37 + 11) & 0xff);
      const b = Uint8Array.from({ length: lb }, (_, i) => (i * 91 + 3) & 0xff);
      const ab = new Uint8Array(la + lb);
      ab.set(a);
      ab.set(b, la);
      expect(crc32cCombine(crc32c(a), crc32c(b), lb)).toBe(crc32c(ab));
    }
    expect(() => crc32cCombine(0, 0, -1)).toThrow(/non-negative/);
  });
});

describe('SnapshotFileWriter', () => {
  it('writes byte for byte the file writeSnapshot writes, and leaves no part file', async () => {
    for (const [seq, epoch, count] of [
      [0, 0, 1],
      [41, 3, 2],
      [2 ** 33 + 5, 9, 60],
    ] as const) {
      const body = chunks(seq % 1000, count);
      const whole = new MemoryLogStorage();
      const streamed = new MemoryLogStorage();
      const name = await writeSnapshot(whole, { seq, epoch, chunks: body });
      expect(await stream(streamed, seq, epoch, body)).toBe(name);
      expect(streamed.files.get(name)).toEqual(whole.files.get(name));
      expect([...streamed.files.keys()]).toEqual([name]);
      expect(await readSnapshot(streamed, name)).toMatchObject({ seq, epoch });
    }
  });

  it('without a reserved head, the body is just the appended chunks', async () => {
    const s = new MemoryLogStorage();
    const w = await SnapshotFileWriter.open(s, 5, 1);
    await w.append(Uint8Array.of(1, 2));
    await w.append(Uint8Array.of(3));
    const snap = await readSnapshot(s, await w.commit());
    expect(snap.body).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('until commit, nothing is under the snapshot name and recovery uses the previous snapshot; the next open clears the part file', async () => {
    const s = new MemoryLogStorage();
    await writeLog(s, { to: 60 });
    await writeSnapshot(s, { seq: 20, epoch: 1, chunks: [Uint8Array.of(20)] });
    const body = chunks(7, 30);
    const w = await SnapshotFileWriter.open(s, 50, 1, body[0]!.length);
    for (const c of body.slice(1, 20)) await w.append(c);
    // A crash here: the process is gone, the files stay as they are.
    const names = await s.list();
    expect(names).not.toContain(snapshotName(50));
    expect(names).toContain(SNAPSHOT_PART_NAME);
    expect((await readNewestSnapshot(s, () => undefined))?.seq).toBe(20);
    const rec = await recover(s, { warn: () => undefined });
    expect(rec.snapshot?.seq).toBe(20);
    expect(rec.lastSeq).toBe(60);
    expect(await rec.replay(21, () => undefined)).toBe(40);
    // The next incarnation's snapshot starts from a fresh part file.
    expect(await stream(s, 50, 1, body)).toBe(snapshotName(50));
    const whole = new MemoryLogStorage();
    await writeSnapshot(whole, { seq: 50, epoch: 1, chunks: body });
    expect(s.files.get(snapshotName(50))).toEqual(whole.files.get(snapshotName(50)));
    expect(await s.list()).not.toContain(SNAPSHOT_PART_NAME);
  });

  it('syncs the part file every few MiB while it is written, so a large snapshot never waits in the page cache whole', async () => {
    const s = new MemoryLogStorage();
    const w = await SnapshotFileWriter.open(s, 7, 1);
    const chunk = new Uint8Array(512 * 1024).fill(7);
    for (let i = 0; i < 32; i++) await w.append(chunk);
    // 16 MiB appended: synced along the way (every 4 MiB), before the commit's own sync.
    expect(s.syncCalls).toBe(4);
    const snap = await readSnapshot(s, await w.commit());
    expect(s.syncCalls).toBe(5);
    expect(snap.body.length).toBe(16 * 1024 * 1024);
  });

  it('a write that fails mid-way rejects, and discard leaves the older snapshots and no part file', async () => {
    const s = new FailingStorage(5);
    await writeSnapshot(s, { seq: 10, epoch: 1, chunks: [Uint8Array.of(10)] });
    const body = chunks(3, 12);
    const w = await SnapshotFileWriter.open(s, 30, 1, body[0]!.length);
    let failed: Error | null = null;
    try {
      for (const c of body.slice(1)) await w.append(c);
    } catch (err) {
      failed = err as Error;
      await w.discard();
    }
    expect(failed?.message).toMatch(/ENOSPC/);
    expect((await s.list()).sort()).toEqual([snapshotName(10)]);
    expect((await readNewestSnapshot(s, () => undefined))?.seq).toBe(10);
    await expect(w.append(Uint8Array.of(1))).rejects.toThrow(/already committed or discarded/);
  });

  it('refuses a head of another length than reserved, and bad ids, naming the problem', async () => {
    const s = new MemoryLogStorage();
    const w = await SnapshotFileWriter.open(s, 1, 1, 4);
    await expect(w.commit(Uint8Array.of(1))).rejects.toThrow(/the 4 bytes reserved, got 1/);
    await expect(SnapshotFileWriter.open(s, -1, 1)).rejects.toThrow(/seq must be a non-negative safe integer/);
    await expect(SnapshotFileWriter.open(s, 1, 1, 1.5)).rejects.toThrow(/reserve must be/);
  });
});
