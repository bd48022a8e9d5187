import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeFrame, LogWriter, recover, SnapshotFileWriter, writeSnapshot } from '@txtest/journal';
import { FsLogStorage } from '../src/index';

let dir = '';

beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'txtest-fs-'));
});

afterEach(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

describe('FsLogStorage', () => {
  it('fs storage: the log directory is created recursively', async () => {
    const nested = path.join(dir, 'a', 'b', 'log');
    const s = new FsLogStorage(nested);
    expect(fs.statSync(nested).isDirectory()).toBe(true);
    expect(await s.list()).toEqual([]);
  });

  it('fs storage: append writes all chunks with one call and tracks the size; reopening appends at the end', async () => {
    const s = new FsLogStorage(dir);
    const h = await s.openAppend('0000000000000001.log');
    expect(h.size).toBe(0);
    await h.append([Uint8Array.of(1, 2), Buffer.from([3]), new Uint8Array(0)]);
    await h.sync();
    expect(h.size).toBe(3);
    await h.close();
    await h.close(); // idempotent
    const h2 = await s.openAppend('0000000000000001.log');
    expect(h2.size).toBe(3);
    await h2.append([Uint8Array.of(4)]);
    await h2.close();
    expect(await s.read('0000000000000001.log')).toEqual(Uint8Array.from([1, 2, 3, 4]));
    await expect(h2.append([Uint8Array.of(5)])).rejects.toThrow(/closed/);
  });

  it('fs storage: one append can carry more chunks than IOV_MAX', async () => {
    const s = new FsLogStorage(dir);
    const h = await s.openAppend('big.log');
    const chunks = Array.from({ length: 5000 }, (_, i) => Uint8Array.of(i & 0xff, (i >> 8) & 0xff));
    await h.append(chunks);
    await h.close();
    const bytes = await s.read('big.log');
    expect(bytes.length).toBe(10000);
    expect([bytes[9998], bytes[9999]]).toEqual([4999 & 0xff, 4999 >> 8]);
  });

  it('fs storage: truncate cuts a file, and appends through an open handle land at the new end', async () => {
    const s = new FsLogStorage(dir);
    const h = await s.openAppend('x.log');
    await h.append([Uint8Array.of(1, 2, 3, 4, 5)]);
    await s.truncate('x.log', 2);
    await h.append([Uint8Array.of(9)]);
    await h.close();
    expect(await s.read('x.log')).toEqual(Uint8Array.from([1, 2, 9]));
  });

  it('fs storage: writeAtomic replaces a file whole; remove tolerates a missing file', async () => {
    const s = new FsLogStorage(dir);
    await s.writeAtomic('snapshot-0000000000000001.snap', [Uint8Array.of(1), Uint8Array.of(2)]);
    await s.writeAtomic('snapshot-0000000000000001.snap', [Uint8Array.of(3)]);
    expect(await s.read('snapshot-0000000000000001.snap')).toEqual(Uint8Array.from([3]));
    expect(fs.readdirSync(dir)).toEqual(['snapshot-0000000000000001.snap']);
    await s.remove('snapshot-0000000000000001.snap');
    await s.remove('snapshot-0000000000000001.snap');
    expect(await s.list()).toEqual([]);
    await expect(s.read('nope')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fs storage: readAt reads a window (short at the end, empty past it); rename moves a file over another', async () => {
    const s = new FsLogStorage(dir);
    await s.writeAtomic('a.part', [Uint8Array.of(1, 2, 3, 4, 5)]);
    expect(await s.readAt('a.part', 1, 3)).toEqual(Uint8Array.of(2, 3, 4));
    expect(await s.readAt('a.part', 3, 10)).toEqual(Uint8Array.of(4, 5));
    expect(await s.readAt('a.part', 9, 2)).toEqual(new Uint8Array(0));
    await s.writeAtomic('b.snap', [Uint8Array.of(9)]);
    await s.rename('a.part', 'b.snap');
    expect(fs.readdirSync(dir)).toEqual(['b.snap']);
    expect(await s.read('b.snap')).toEqual(Uint8Array.of(1, 2, 3, 4, 5));
    await expect(s.readAt('a.part', 0, 1)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fs storage: list hides and removes stale *.tmp files and ignores directories', async () => {
    const s = new FsLogStorage(dir);
    fs.writeFileSync(path.join(dir, 'snapshot-0000000000000009.snap.tmp'), 'half a snapshot');
    fs.writeFileSync(path.join(dir, '0000000000000001.log'), '');
    fs.mkdirSync(path.join(dir, 'sub'));
    expect(await s.list()).toEqual(['0000000000000001.log']);
    expect(fs.existsSync(path.join(dir, 'snapshot-0000000000000009.snap.tmp'))).toBe(false);
  });

  it('fs storage: list does not remove the temp file of a writeAtomic in progress', async () => {
    const s = new FsLogStorage(dir);
    const big = new Uint8Array(8 << 20);
    const writing = s.writeAtomic('snapshot-0000000000000002.snap', [big]);
    const listed = await s.list();
    await writing;
    expect(listed).not.toContain('snapshot-0000000000000002.snap.tmp');
    expect((await s.read('snapshot-0000000000000002.snap')).length).toBe(big.length);
  });

  it('fs storage: names that would escape the directory are refused', async () => {
    const s = new FsLogStorage(dir);
    await expect(s.read('../etc/passwd')).rejects.toThrow(/invalid file name/);
    await expect(s.openAppend('..')).rejects.toThrow(/invalid file name/);
  });

  it('fs storage: a LogWriter on real files survives a reopen with everything intact', async () => {
    const s = new FsLogStorage(dir);
    const synced: number[] = [];
    const w = new LogWriter({
      storage: s,
      lastSeq: 0,
      lastEpoch: 0,
      segmentBytesMax: 4096,
      defer: setImmediate,
      onSynced: (seq) => synced.push(seq),
      onError: (e) => {
        throw e;
      },
    });
    for (let seq = 1; seq <= 2000; seq++) {
      w.append(encodeFrame(1, seq, new TextEncoder().encode(`record ${seq}`)));
      if (seq % 100 === 0) await new Promise((r) => setImmediate(r));
    }
    await w.close();
    expect(synced.at(-1)).toBe(2000);
    const rec = await recover(new FsLogStorage(dir), { warn: (m) => expect.fail(m) });
    expect(rec.lastSeq).toBe(2000);
    expect(rec.segments.length).toBeGreaterThan(1);
    let n = 0;
    await rec.replay(1, (_e, seq, payload) => {
      n++;
      expect(new TextDecoder().decode(payload)).toBe(`record ${seq}`);
    });
    expect(n).toBe(2000);
  });
});

describe('FsLogStorage.writeAt and streamed snapshots', () => {
  it('fs storage: writeAt overwrites in place and extends past the end; a hole or a missing file is refused', async () => {
    const s = new FsLogStorage(dir);
    const h = await s.openAppend('f.part');
    await h.append([Uint8Array.of(1, 2, 3, 4)]);
    await s.writeAt('f.part', 1, Uint8Array.of(9, 9));
    await s.writeAt('f.part', 3, Uint8Array.of(7, 8));
    // The append handle is O_APPEND: it still writes at the (new) end.
    await h.append([Uint8Array.of(5)]);
    await h.sync();
    await h.close();
    expect(await s.read('f.part')).toEqual(Uint8Array.of(1, 9, 9, 7, 8, 5));
    await expect(s.writeAt('f.part', 9, Uint8Array.of(1))).rejects.toThrow(/offset 9 outside f.part/);
    await expect(s.writeAt('nope', 0, Uint8Array.of(1))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fs storage: a snapshot streamed through SnapshotFileWriter is the file writeSnapshot writes, and recovery reads it', async () => {
    const body = Array.from({ length: 40 }, (_, c) => Uint8Array.from({ length: c === 0 ? 72 : 3000 + c }, (_, i) => (c * 13 + i) & 0xff));
    const other = path.join(dir, 'whole');
    const whole = new FsLogStorage(other);
    const name = await writeSnapshot(whole, { seq: 123, epoch: 4, chunks: body });
    const s = new FsLogStorage(path.join(dir, 'streamed'));
    const w = await SnapshotFileWriter.open(s, 123, 4, body[0]!.length);
    for (const c of body.slice(1)) await w.append(c);
    expect(await w.commit(body[0])).toBe(name);
    expect(await s.read(name)).toEqual(await whole.read(name));
    expect(fs.readdirSync(path.join(dir, 'streamed'))).toEqual([name]);
    const rec = await recover(s, { warn: () => undefined });
    expect(rec.snapshot).toMatchObject({ name, seq: 123, epoch: 4 });
  });
});
