import { describe, expect, it } from 'vitest';
import { JournalCorruptError, MemoryLogStorage, recover } from '../src/index';
import { bytesEqual, frameOffsets, payloadFor, segmentsIn, writeLog } from './helpers';
import { recoveryScenarios } from './recovery-scenarios';

describe('recovery on MemoryLogStorage', () => {
  recoveryScenarios(async () => ({ storage: new MemoryLogStorage(), cleanup: async () => {} }));
});

describe('recovery under exhaustive damage (MemoryLogStorage)', () => {
  it('recovery: cutting the newest segment at any byte keeps exactly the whole records before the cut', async () => {
    const base = new MemoryLogStorage();
    await writeLog(base, { to: 12, segmentBytesMax: 1 << 20 });
    const [seg] = await segmentsIn(base);
    const full = base.files.get(seg!)!.slice();
    const offs = await frameOffsets(base, seg!);
    for (let cut = 0; cut <= full.length; cut++) {
      const s = new MemoryLogStorage();
      s.files.set(seg!, full.slice(0, cut));
      const whole = offs.filter((o, i) => (offs[i + 1] ?? full.length) <= cut).length;
      const rec = await recover(s, { warn: () => {} });
      expect(rec.lastSeq).toBe(whole);
    }
  });

  it('recovery: flipping any single byte never yields wrong records: it throws, or keeps an intact prefix', async () => {
    const base = new MemoryLogStorage();
    await writeLog(base, { to: 8, segmentBytesMax: 1 << 20 });
    const [seg] = await segmentsIn(base);
    const full = base.files.get(seg!)!.slice();
    for (let i = 0; i < full.length; i++) {
      const s = new MemoryLogStorage();
      const damaged = full.slice();
      damaged[i]! ^= 0x41;
      s.files.set(seg!, damaged);
      let rec;
      try {
        rec = await recover(s, { warn: () => {} });
      } catch (err) {
        expect(err).toBeInstanceOf(JournalCorruptError);
        continue;
      }
      const seen: number[] = [];
      await rec.replay(1, (epoch, seq, payload) => {
        expect(bytesEqual(payload, payloadFor(seq))).toBe(true);
        seen.push(seq);
      });
      expect(seen).toEqual(Array.from({ length: rec.lastSeq }, (_, k) => k + 1));
      expect(rec.lastSeq).toBeGreaterThanOrEqual(7); // only the last record can be lost this way
    }
  });
});

describe('recovery durability', () => {
  it('recovery: the newest kept segment is fsynced, since the crashed process may not have done it', async () => {
    const s = new MemoryLogStorage();
    await writeLog(s, { to: 30 });
    const before = s.syncCalls;
    await recover(s, { warn: () => {} });
    expect(s.syncCalls).toBe(before + 1);
  });
});
