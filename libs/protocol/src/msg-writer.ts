/**
 * A MessagePack writer for the hot paths (replies, events, log records): it writes
 * straight into a large slab, so a batch reply of 64 entries is one buffer with no
 * intermediate reply objects. `take()` hands out the bytes written since the last
 * take as a view of the slab; the slab is never written again below that point (a
 * new slab is started when it runs out), so every view stays valid for as long as
 * anyone holds it, the same trick msgpackr uses.
 *
 * Output is plain MessagePack (maps, arrays, str, int, float64, nil, bool) that any
 * decoder reads; values the protocol never carries (binary, extensions) are refused.
 */
const SLAB_BYTES = 256 * 1024;
const TWO_32 = 0x1_0000_0000;

export class MsgWriter {
  private buf: Buffer = Buffer.allocUnsafe(SLAB_BYTES);
  private start = 0;
  pos = 0;

  /** Makes room for n more bytes, moving the pending bytes to a fresh slab if needed. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const pending = this.pos - this.start;
    const next = Buffer.allocUnsafe(Math.max(SLAB_BYTES, (pending + n) * 2));
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.start = 0;
    this.pos = pending;
  }

  /** The bytes written since the last take (or discard). */
  take(): Uint8Array {
    const out = this.buf.subarray(this.start, this.pos);
    this.start = this.pos;
    return out;
  }

  /** Bytes written since the last take. */
  get pendingLength(): number {
    return this.pos - this.start;
  }

  /** The slab being written; bytes taken by `takeAt` stay in it, unchanged, for good. */
  get slab(): Buffer {
    return this.buf;
  }

  /**
   * Like `take()` without creating a view: returns the offset in `slab` where the bytes
   * written since the last take begin (they end at the `pos` read just before). For
   * callers that keep millions of such spans and would rather not hold a view for each.
   */
  takeAt(): number {
    const at = this.start;
    this.start = this.pos;
    return at;
  }

  /** Copies bytes that are already MessagePack (a value taken earlier) into the output. */
  copy(src: Buffer, from: number, to: number): void {
    const n = to - from;
    this.ensure(n);
    const b = this.buf;
    if (n < 64) {
      // Results are mostly a few bytes: a loop beats the native call (and its view).
      let at = this.pos;
      for (let i = from; i < to; i++) b[at++] = src[i]!;
    } else src.copy(b, this.pos, from, to);
    this.pos += n;
  }

  /** Copies a constant run of MessagePack (a `msgpackChunk`) into the output. */
  raw(chunk: Buffer): void {
    this.copy(chunk, 0, chunk.length);
  }

  /** Forgets the bytes written since the last take. */
  discard(): void {
    this.pos = this.start;
  }

  /** Reserves n bytes at the current position and returns their offset within `bytes()`. */
  reserve(n: number): number {
    this.ensure(n);
    const at = this.pos - this.start;
    this.pos += n;
    return at;
  }

  /** A view of the bytes written since the last take, for filling reserved space. */
  pending(): Uint8Array {
    return this.buf.subarray(this.start, this.pos);
  }

  nil(): void {
    this.ensure(1);
    this.buf[this.pos++] = 0xc0;
  }

  bool(b: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = b ? 0xc3 : 0xc2;
  }

  num(n: number): void {
    this.ensure(9);
    const b = this.buf;
    // Integers beyond 32 bits go out as float64 (exact for safe integers), as msgpackr
    // writes them: default decoders would otherwise hand clients a BigInt for uint64.
    if (Number.isInteger(n) && n >= -0x8000_0000 && n < TWO_32) {
      if (n >= 0) {
        if (n < 0x80) b[this.pos++] = n;
        else if (n < 0x100) { b[this.pos++] = 0xcc; b[this.pos++] = n; }
        else if (n < 0x10000) { b[this.pos++] = 0xcd; b.writeUInt16BE(n, this.pos); this.pos += 2; }
        else { b[this.pos++] = 0xce; b.writeUInt32BE(n, this.pos); this.pos += 4; }
      } else if (n >= -32) b[this.pos++] = n & 0xff;
      else if (n >= -0x80) { b[this.pos++] = 0xd0; b.writeInt8(n, this.pos); this.pos += 1; }
      else if (n >= -0x8000) { b[this.pos++] = 0xd1; b.writeInt16BE(n, this.pos); this.pos += 2; }
      else { b[this.pos++] = 0xd2; b.writeInt32BE(n, this.pos); this.pos += 4; }
      return;
    }
    b[this.pos++] = 0xcb;
    b.writeDoubleBE(n, this.pos);
    this.pos += 8;
  }

  str(s: string): void {
    const len = s.length;
    this.ensure(5 + len * 3);
    const b = this.buf;
    if (len < 32) {
      // Short ASCII strings (ids, keys, ops) are the common case: copy char by char.
      const at = this.pos;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[at + 1 + i] = c;
      }
      if (i === len) {
        b[at] = 0xa0 | len;
        this.pos = at + 1 + len;
        return;
      }
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.strHeader(bytes);
    this.pos += b.write(s, this.pos, bytes, "utf8");
  }

  /** A str whose UTF-8 bytes are src[from, to) (an id kept as bytes). */
  strBytes(src: Buffer, from: number, to: number): void {
    this.ensure(5);
    this.strHeader(to - from);
    this.copy(src, from, to);
  }

  /** A str header for `bytes` UTF-8 bytes (room for it ensured by the caller). */
  private strHeader(bytes: number): void {
    const b = this.buf;
    if (bytes < 32) b[this.pos++] = 0xa0 | bytes;
    else if (bytes < 0x100) { b[this.pos++] = 0xd9; b[this.pos++] = bytes; }
    else if (bytes < 0x10000) { b[this.pos++] = 0xda; b.writeUInt16BE(bytes, this.pos); this.pos += 2; }
    else { b[this.pos++] = 0xdb; b.writeUInt32BE(bytes, this.pos); this.pos += 4; }
  }

  mapHeader(n: number): void {
    this.ensure(5);
    const b = this.buf;
    if (n < 16) b[this.pos++] = 0x80 | n;
    else if (n < 0x10000) { b[this.pos++] = 0xde; b.writeUInt16BE(n, this.pos); this.pos += 2; }
    else { b[this.pos++] = 0xdf; b.writeUInt32BE(n, this.pos); this.pos += 4; }
  }

  arrayHeader(n: number): void {
    this.ensure(5);
    const b = this.buf;
    if (n < 16) b[this.pos++] = 0x90 | n;
    else if (n < 0x10000) { b[this.pos++] = 0xdc; b.writeUInt16BE(n, this.pos); this.pos += 2; }
    else { b[this.pos++] = 0xdd; b.writeUInt32BE(n, this.pos); this.pos += 4; }
  }

  /** Any plain value: what validation lets in and models produce. */
  value(v: unknown): void {
    switch (typeof v) {
      case 'string':
        return this.str(v);
      case 'number':
        return this.num(v);
      case 'boolean':
        return this.bool(v);
      case 'undefined':
        return this.nil();
      case 'object': {
        if (v === null) return this.nil();
        if (Array.isArray(v)) {
          this.arrayHeader(v.length);
          for (let i = 0; i < v.length; i++) this.value(v[i]);
          return;
        }
        const o = v as Record<string, unknown>;
        let n = 0;
        for (const k in o) if (o[k] !== undefined) n++;
        this.mapHeader(n);
        for (const k in o) {
          const x = o[k];
          if (x === undefined) continue;
          this.str(k);
          this.value(x);
        }
        return;
      }
      default:
        throw new TypeError(`cannot encode a ${typeof v} as protocol data`);
    }
  }
}

/**
 * The bytes `write` puts out, once, for `MsgWriter.raw`: the constant parts of a message
 * (a map header and its first key, a key and the next key) copied as one run, rather
 * than each key string encoded again for every message.
 */
export function msgpackChunk(write: (w: MsgWriter) => void): Buffer {
  const w = new MsgWriter();
  write(w);
  return Buffer.from(w.take());
}
