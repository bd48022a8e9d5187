import { describe, expect, it } from 'vitest';
import { MemoryLogStorage } from '../src/index';

describe('MemoryLogStorage', () => {
  it('memory storage: append handles grow the file with one call per group and report size', async () => {
    const s = new MemoryLogStorage();
    const h = await s.openAppend('a.log');
    expect(h.size).toBe(0);
    await h.append([Uint8Array.of(1, 2), Uint8Array.of(3)]);
    for (let i = 0; i < 2000; i++) await h.append([new Uint8Array(10).fill(i & 0xff)]);
    expect(h.size).toBe(3 + 20000);
    expect(s.appendCalls).toBe(2001);
    const bytes = await s.read('a.log');
    expect(bytes.subarray(0, 4)).toEqual(Uint8Array.of(1, 2, 3, 0));
    expect(bytes.at(-1)).toBe(1999 & 0xff);
    // Reopening appends at the end.
    const h2 = await s.openAppend('a.log');
    expect(h2.size).toBe(20003);
    await h.close();
    await expect(h.append([Uint8Array.of(1)])).rejects.toThrow(/closed/);
  });

  it('memory storage: read returns a copy that later changes do not touch', async () => {
    const s = new MemoryLogStorage();
    const h = await s.openAppend('a.log');
    await h.append([Uint8Array.of(1, 2, 3)]);
    const before = await s.read('a.log');
    await s.truncate('a.log', 1);
    await h.append([Uint8Array.of(9, 9)]);
    expect(before).toEqual(Uint8Array.of(1, 2, 3));
    expect(await s.read('a.log')).toEqual(Uint8Array.of(1, 9, 9));
    expect(h.size).toBe(3);
  });

  it('memory storage: writeAtomic replaces, remove tolerates missing files, read of a missing file rejects', async () => {
    const s = new MemoryLogStorage();
    await s.writeAtomic('x.snap', [Uint8Array.of(1), Uint8Array.of(2, 3)]);
    await s.writeAtomic('x.snap', [Uint8Array.of(4)]);
    expect(await s.read('x.snap')).toEqual(Uint8Array.of(4));
    expect(await s.list()).toEqual(['x.snap']);
    await s.remove('x.snap');
    await s.remove('x.snap');
    expect(await s.list()).toEqual([]);
    await expect(s.read('x.snap')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('memory storage: corrupt flips a byte and cut shortens a file, for fault tests', async () => {
    const s = new MemoryLogStorage();
    s.files.set('f', Uint8Array.of(0, 1, 2, 3));
    s.corrupt('f', 1);
    expect(s.files.get('f')).toEqual(Uint8Array.of(0, 0xfe, 2, 3));
    s.cut('f', 2);
    expect(s.files.get('f')).toEqual(Uint8Array.of(0, 0xfe));
    expect(() => s.cut('f', 5)).toThrow(RangeError);
    // A file planted directly in `files` can be appended to.
    const h = await s.openAppend('f');
    await h.append([Uint8Array.of(7)]);
    expect(s.files.get('f')).toEqual(Uint8Array.of(0, 0xfe, 7));
  });

  it('memory storage: writeAt overwrites in place, extends past the end, leaves earlier reads alone, and refuses a hole or a missing file', async () => {
    const s = new MemoryLogStorage();
    const h = await s.openAppend('f');
    await h.append([Uint8Array.of(1, 2, 3, 4)]);
    const before = await s.read('f');
    await s.writeAt('f', 1, Uint8Array.of(9, 9));
    expect(await s.read('f')).toEqual(Uint8Array.of(1, 9, 9, 4));
    expect(before).toEqual(Uint8Array.of(1, 2, 3, 4));
    await s.writeAt('f', 3, Uint8Array.of(7, 8));
    expect(await s.read('f')).toEqual(Uint8Array.of(1, 9, 9, 7, 8));
    await h.append([Uint8Array.of(5)]);
    expect(await s.read('f')).toEqual(Uint8Array.of(1, 9, 9, 7, 8, 5));
    await expect(s.writeAt('f', 7, Uint8Array.of(1))).rejects.toThrow(/offset 7 outside f/);
    await expect(s.writeAt('nope', 0, Uint8Array.of(1))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
