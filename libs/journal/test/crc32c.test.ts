import { describe, expect, it } from 'vitest';
import { crc32c, crc32cUpdate } from '../src/index';

/** The textbook bit-at-a-time CRC32C, as an independent reference for the fast one. */
function slowCrc32c(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  it('crc32c: the standard check value of "123456789" is 0xE3069283', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });

  it('crc32c: the empty input gives 0 and results are unsigned', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBeGreaterThan(0);
    expect(crc32c(Uint8Array.of(0x80, 1, 2))).toBeGreaterThanOrEqual(0);
  });

  it('crc32c: slice-by-8 agrees with the bitwise reference at every length and alignment', () => {
    const data = new Uint8Array(300);
    for (let i = 0; i < data.length; i++) data[i] = (i * 167 + 13) & 0xff;
    for (let start = 0; start < 9; start++) {
      for (let end = start; end <= data.length; end += 7) {
        expect(crc32c(data, start, end)).toBe(slowCrc32c(data.subarray(start, end)));
      }
    }
  });

  it('crc32c: crc32cUpdate continues a checksum over more chunks', () => {
    const all = new TextEncoder().encode('the quick brown fox jumps over the lazy dog');
    const split = crc32cUpdate(crc32cUpdate(crc32c(all, 0, 10), all.subarray(10, 11)), all.subarray(11));
    expect(split).toBe(crc32c(all));
  });
});
