/**
 * A MessagePack reader for the replay path, the counterpart of MsgWriter: one reader
 * walks a record without the per-call setup of a general decoder, and reads the plain
 * types the protocol carries (maps, arrays, str, int, float, nil, bool). Anything else
 * throws, which callers turn into a clear error naming the record.
 */
const decoder = new TextDecoder('utf-8', { fatal: true });
const TWO_32 = 0x1_0000_0000;

export class MsgReader {
  private b: Uint8Array = new Uint8Array(0);
  pos = 0;
  private end = 0;
  private readonly codes: number[] = [];

  reset(bytes: Uint8Array): this {
    this.b = bytes;
    this.pos = 0;
    this.end = bytes.length;
    return this;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  private byte(): number {
    if (this.pos >= this.end) throw new RangeError('MessagePack data ends early');
    return this.b[this.pos++]!;
  }

  private u16(): number {
    const b = this.b;
    const p = this.pos;
    if (p + 2 > this.end) throw new RangeError('MessagePack data ends early');
    this.pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  private u32(): number {
    const b = this.b;
    const p = this.pos;
    if (p + 4 > this.end) throw new RangeError('MessagePack data ends early');
    this.pos = p + 4;
    return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  arrayHeader(): number {
    const t = this.byte();
    if (t >= 0x90 && t <= 0x9f) return t & 0x0f;
    if (t === 0xdc) return this.u16();
    if (t === 0xdd) return this.u32();
    throw new TypeError(`expected an array, found type byte 0x${t.toString(16)}`);
  }

  num(): number {
    const v = this.value();
    if (typeof v !== 'number') throw new TypeError(`expected a number, found ${typeof v}`);
    return v;
  }

  str(): string {
    const v = this.value();
    if (typeof v !== 'string') throw new TypeError(`expected a string, found ${typeof v}`);
    return v;
  }

  private string(len: number): string {
    const b = this.b;
    const p = this.pos;
    if (p + len > this.end) throw new RangeError('MessagePack data ends early');
    this.pos = p + len;
    if (len < 32) {
      // Short ASCII (ids, asset ids, ops, keys): one fromCharCode over a reused code array
      // beats both a native decoder call and building the string a character at a time.
      const codes = this.codes;
      codes.length = len;
      let ascii = true;
      for (let i = 0; i < len; i++) {
        const c = b[p + i]!;
        if (c >= 0x80) {
          ascii = false;
          break;
        }
        codes[i] = c;
      }
      if (ascii) return String.fromCharCode.apply(null, codes);
    }
    return decoder.decode(b.subarray(p, p + len));
  }

  /** The bytes being read (offsets such as `pos` and `skipStr`'s are into these). */
  get bytes(): Uint8Array {
    return this.b;
  }

  bool(): boolean {
    const t = this.byte();
    if (t === 0xc2 || t === 0xc3) return t === 0xc3;
    throw new TypeError(`expected a boolean, found type byte 0x${t.toString(16)}`);
  }

  /** Steps over a str without decoding it; returns where its UTF-8 bytes start (they end at `pos`). */
  skipStr(): number {
    const t = this.byte();
    let len: number;
    if (t >= 0xa0 && t <= 0xbf) len = t & 0x1f;
    else if (t === 0xd9) len = this.byte();
    else if (t === 0xda) len = this.u16();
    else if (t === 0xdb) len = this.u32();
    else throw new TypeError(`expected a string, found type byte 0x${t.toString(16)}`);
    const from = this.pos;
    this.advance(len);
    return from;
  }

  /** Steps over one value of the plain types `value` reads, building nothing. */
  skip(): void {
    for (let left = 1; left > 0; left--) {
      const t = this.byte();
      if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) continue;
      if (t <= 0x8f) left += 2 * (t & 0x0f);
      else if (t <= 0x9f) left += t & 0x0f;
      else if (t <= 0xbf) this.advance(t & 0x1f);
      else if (t === 0xcc || t === 0xd0) this.advance(1);
      else if (t === 0xcd || t === 0xd1) this.advance(2);
      else if (t === 0xce || t === 0xd2 || t === 0xca) this.advance(4);
      else if (t === 0xcf || t === 0xd3 || t === 0xcb) this.advance(8);
      else if (t === 0xd9) this.advance(this.byte());
      else if (t === 0xda) this.advance(this.u16());
      else if (t === 0xdb) this.advance(this.u32());
      else if (t === 0xdc) left += this.u16();
      else if (t === 0xdd) left += this.u32();
      else if (t === 0xde) left += 2 * this.u16();
      else if (t === 0xdf) left += 2 * this.u32();
      else throw new TypeError(`MessagePack type byte 0x${t.toString(16)} is not plain data`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new RangeError('MessagePack data ends early');
    this.pos += n;
  }

  value(): unknown {
    const t = this.byte();
    if (t <= 0x7f) return t;
    if (t >= 0xe0) return t - 0x100;
    if (t <= 0x8f) return this.map(t & 0x0f);
    if (t <= 0x9f) return this.array(t & 0x0f);
    if (t <= 0xbf) return this.string(t & 0x1f);
    const b = this.b;
    switch (t) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xcc: return this.byte();
      case 0xcd: return this.u16();
      case 0xce: return this.u32();
      case 0xcf: { const hi = this.u32(); return hi * TWO_32 + this.u32(); }
      case 0xd0: { const v = this.byte(); return v > 0x7f ? v - 0x100 : v; }
      case 0xd1: { const v = this.u16(); return v > 0x7fff ? v - 0x10000 : v; }
      case 0xd2: return this.u32() | 0;
      case 0xd3: { const hi = this.u32() | 0; return hi * TWO_32 + this.u32(); }
      case 0xca: { const p = this.pos; this.u32(); return new DataView(b.buffer, b.byteOffset + p, 4).getFloat32(0); }
      case 0xcb: { const p = this.pos; this.u32(); this.u32(); return new DataView(b.buffer, b.byteOffset + p, 8).getFloat64(0); }
      case 0xd9: return this.string(this.byte());
      case 0xda: return this.string(this.u16());
      case 0xdb: return this.string(this.u32());
      case 0xdc: return this.array(this.u16());
      case 0xdd: return this.array(this.u32());
      case 0xde: return this.map(this.u16());
      case 0xdf: return this.map(this.u32());
      default:
        throw new TypeError(`MessagePack type byte 0x${t.toString(16)} is not plain data`);
    }
  }

  private array(n: number): unknown[] {
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = this.value();
    return out;
  }

  private map(n: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const k = this.value();
      if (typeof k !== 'string') throw new TypeError('a map key is not a string');
      out[k] = this.value();
    }
    return out;
  }
}
