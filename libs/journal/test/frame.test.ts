import { describe, expect, it } from 'vitest';
import { crc32c, decodeFrameAt, encodeFrame, FRAME_HEADER_BYTES, frameEpoch, frameSeq, frameSize, JournalUsageError, type DecodedFrame } from '../src/index';

const payload = Uint8Array.of(1, 2, 3, 4, 5);

describe('frame', () => {
  it('frame: encode then decode round-trips epoch, seq and payload', () => {
    const f = encodeFrame(7, 42, payload);
    expect(f.length).toBe(frameSize(payload.length));
    expect(FRAME_HEADER_BYTES).toBe(8);
    const d = decodeFrameAt(f, 0) as DecodedFrame;
    expect(typeof d).toBe('object');
    expect(d.epoch).toBe(7);
    expect(d.seq).toBe(42);
    expect(d.payload).toEqual(payload);
    expect(d.next).toBe(f.length);
  });

  it('frame: the layout is bodyLen, crc(body), epoch, seq lo, seq hi, payload (little-endian)', () => {
    const f = encodeFrame(0x01020304, 0x0000_0005_0000_0006, payload);
    const dv = new DataView(f.buffer);
    expect(dv.getUint32(0, true)).toBe(12 + payload.length);
    expect(dv.getUint32(4, true)).toBe(crc32c(f, 8));
    expect(dv.getUint32(8, true)).toBe(0x01020304);
    expect(dv.getUint32(12, true)).toBe(6);
    expect(dv.getUint32(16, true)).toBe(5);
    expect(f.subarray(20)).toEqual(payload);
  });

  it('frame: seqs above 2^32 up to MAX_SAFE_INTEGER survive, and frameSeq/frameEpoch read them', () => {
    for (const seq of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]) {
      const f = encodeFrame(0xffffffff, seq, new Uint8Array(0));
      expect(frameSeq(f)).toBe(seq);
      expect(frameEpoch(f)).toBe(0xffffffff);
      expect((decodeFrameAt(f, 0) as DecodedFrame).seq).toBe(seq);
    }
  });

  it('frame: the decoded payload is a view into the input, not a copy', () => {
    const buf = new Uint8Array(100);
    const f = encodeFrame(1, 9, payload);
    buf.set(f, 30);
    const d = decodeFrameAt(buf, 30) as DecodedFrame;
    expect(d.payload.buffer).toBe(buf.buffer);
    expect(d.payload.byteOffset).toBe(50);
    expect(d.next).toBe(30 + f.length);
  });

  it('frame: frames decode back to back', () => {
    const a = encodeFrame(1, 1, payload);
    const b = encodeFrame(1, 2, new Uint8Array(0));
    const buf = new Uint8Array(a.length + b.length);
    buf.set(a);
    buf.set(b, a.length);
    const d1 = decodeFrameAt(buf, 0) as DecodedFrame;
    const d2 = decodeFrameAt(buf, d1.next) as DecodedFrame;
    expect([d1.seq, d2.seq, d2.payload.length, d2.next]).toEqual([1, 2, 0, buf.length]);
  });

  it("frame: a header or body cut short decodes as 'short'", () => {
    const f = encodeFrame(1, 1, payload);
    expect(decodeFrameAt(f.subarray(0, 5), 0)).toBe('short');
    expect(decodeFrameAt(f.subarray(0, f.length - 1), 0)).toBe('short');
    expect(decodeFrameAt(f, f.length)).toBe('short');
  });

  it("frame: any flipped bit in the body decodes as 'crc'", () => {
    const f = encodeFrame(3, 77, payload);
    for (let i = 8; i < f.length; i++) {
      const g = f.slice();
      g[i]! ^= 0x10;
      expect(decodeFrameAt(g, 0)).toBe('crc');
    }
    const g = f.slice();
    g[5]! ^= 1; // the stored checksum itself
    expect(decodeFrameAt(g, 0)).toBe('crc');
  });

  it("frame: a body length too small for epoch and seq decodes as 'crc'", () => {
    const g = encodeFrame(1, 1, payload);
    g[0] = 4;
    expect(decodeFrameAt(g, 0)).toBe('crc');
  });

  it("frame: a zero body length decodes as 'zero'", () => {
    expect(decodeFrameAt(new Uint8Array(64), 0)).toBe('zero');
  });

  it('frame: encodeFrame refuses seqs and epochs it cannot represent', () => {
    expect(() => encodeFrame(1, -1, payload)).toThrow(JournalUsageError);
    expect(() => encodeFrame(1, 2 ** 53, payload)).toThrow(JournalUsageError);
    expect(() => encodeFrame(1, 1.5, payload)).toThrow(JournalUsageError);
    expect(() => encodeFrame(2 ** 32, 1, payload)).toThrow(JournalUsageError);
  });
});
