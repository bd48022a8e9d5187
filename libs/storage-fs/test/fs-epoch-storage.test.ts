import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EpochRecord } from '@txtest/cluster';
import { EpochFileError, FsEpochStorage } from '../src/index';

let dir = '';

beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'txtest-epoch-'));
});

afterEach(async () => {
  await fs.promises.rm(dir, { recursive: true, force: true });
});

const rec = (epoch: number, history: [number, number][] = [[1, 1]]): EpochRecord => ({ epoch, role: 'primary', primary: 'n1', history });
const slots = () => path.join(dir, 'epoch.slots');

describe('FsEpochStorage', () => {
  it('saves and loads the newest record, the slots taking turns, the file never regrown or renamed after its creation', async () => {
    const s = new FsEpochStorage(dir);
    expect(await s.load()).toBeNull();
    await s.save(rec(1));
    const ino = fs.statSync(slots()).ino;
    const size = fs.statSync(slots()).size;
    for (let e = 2; e <= 9; e++) await s.save(rec(e));
    expect(fs.statSync(slots()).ino).toBe(ino);
    expect(fs.statSync(slots()).size).toBe(size);
    expect(fs.readdirSync(dir).sort()).toEqual(['epoch.slots']);
    expect(await new FsEpochStorage(dir).load()).toEqual(rec(9));
  });

  it('a torn newest slot leaves the previous record (a crash during the overwrite)', async () => {
    const s = new FsEpochStorage(dir);
    await s.save(rec(1));
    await s.save(rec(2));
    await s.save(rec(3));
    // The record of epoch 3 went to the slot its counter picks: damage that one's JSON.
    const bytes = fs.readFileSync(slots());
    const slotBytes = bytes.readUInt32LE(4);
    const newest = [0, 1].reduce((a, i) => (bytes.readDoubleLE(i * slotBytes + 8) > bytes.readDoubleLE(a * slotBytes + 8) ? i : a), 0);
    bytes[newest * slotBytes + 30] ^= 0xff;
    fs.writeFileSync(slots(), bytes);
    const again = new FsEpochStorage(dir);
    expect(await again.load()).toEqual(rec(2));
    // And the next save goes on from there, into the damaged slot's place or the other one.
    await again.save(rec(4));
    expect(await new FsEpochStorage(dir).load()).toEqual(rec(4));
  });

  it('both slots damaged: a clear error naming the file', async () => {
    const s = new FsEpochStorage(dir);
    await s.save(rec(1));
    await s.save(rec(2));
    const bytes = fs.readFileSync(slots());
    const slotBytes = bytes.readUInt32LE(4);
    bytes[30] ^= 0xff;
    bytes[slotBytes + 30] ^= 0xff;
    fs.writeFileSync(slots(), bytes);
    await expect(new FsEpochStorage(dir).load()).rejects.toThrow(EpochFileError);
    await expect(new FsEpochStorage(dir).load()).rejects.toThrow(/epoch\.slots holds no valid epoch record/);
  });

  it('a record larger than its slot regrows the file, and the record before it is kept', async () => {
    const s = new FsEpochStorage(dir);
    await s.save(rec(1));
    const small = fs.statSync(slots()).size;
    const long: [number, number][] = Array.from({ length: 2000 }, (_, i) => [i + 1, i * 1000 + 1]);
    await s.save(rec(2000, long));
    expect(fs.statSync(slots()).size).toBeGreaterThan(small);
    expect(await new FsEpochStorage(dir).load()).toEqual(rec(2000, long));
    await s.save(rec(2001, long));
    expect(await new FsEpochStorage(dir).load()).toEqual(rec(2001, long));
  });

  it('reads a data dir of the version that kept epoch.json, and moves the record on its first save', async () => {
    fs.writeFileSync(path.join(dir, 'epoch.json'), JSON.stringify(rec(7)));
    const s = new FsEpochStorage(dir);
    expect(await s.load()).toEqual(rec(7));
    await s.save(rec(8));
    expect(fs.readdirSync(dir).sort()).toEqual(['epoch.slots']);
    expect(await new FsEpochStorage(dir).load()).toEqual(rec(8));
  });

  it('a damaged epoch.json of an older version is refused by name', async () => {
    fs.writeFileSync(path.join(dir, 'epoch.json'), '{"epoch":');
    await expect(new FsEpochStorage(dir).load()).rejects.toThrow(/epoch\.json is not valid JSON/);
  });
});
