import { describe, expect, it } from 'vitest';
import { Rng, Scheduler, SimDisk, SimLogStorage } from '../src/index';

/** Runs one storage call to completion on the simulated disk's scheduler. */
async function io<T>(sched: Scheduler, p: Promise<T>): Promise<T> {
  let done = false;
  const out = p.finally(() => (done = true));
  // Observed now: the rejection (if any) comes inside the run, and is returned after it.
  out.catch(() => undefined);
  await sched.run(Number.POSITIVE_INFINITY, () => done);
  return out;
}

describe('SimLogStorage.writeAt', () => {
  it('overwrites in place, and a power loss before the next sync cuts the file back to the offset written', async () => {
    const sched = new Scheduler();
    const disk = new SimDisk('d', sched, new Rng(1));
    const s = new SimLogStorage(disk, { alive: true, pausedUntil: 0 });
    const h = await io(sched, s.openAppend('f.part'));
    await io(sched, h.append([Uint8Array.of(1, 2, 3, 4, 5, 6)]));
    await io(sched, h.sync());
    await io(sched, s.writeAt('f.part', 4, Uint8Array.of(9, 9, 9)));
    expect(disk.read('f.part')).toEqual(Uint8Array.of(1, 2, 3, 4, 9, 9, 9));
    // Unsynced: a power loss keeps only what was durable before the overwritten offset.
    disk.powerLoss(false);
    expect(disk.read('f.part')).toEqual(Uint8Array.of(1, 2, 3, 4));
    await io(sched, s.writeAt('f.part', 0, Uint8Array.of(7)));
    await io(sched, h.sync());
    disk.powerLoss(false);
    expect(disk.read('f.part')).toEqual(Uint8Array.of(7, 2, 3, 4));
  });

  it('refuses an offset past the end and a missing file', async () => {
    const sched = new Scheduler();
    const disk = new SimDisk('d', sched, new Rng(2));
    const s = new SimLogStorage(disk, { alive: true, pausedUntil: 0 });
    const h = await io(sched, s.openAppend('f.part'));
    await io(sched, h.append([Uint8Array.of(1)]));
    await expect(io(sched, s.writeAt('f.part', 3, Uint8Array.of(1)))).rejects.toThrow(/offset 3 outside f.part/);
    await expect(io(sched, s.writeAt('nope', 0, Uint8Array.of(1)))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
