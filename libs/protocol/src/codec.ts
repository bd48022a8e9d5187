/**
 * Body encoding (PROTOCOL.md section 2): MessagePack plain maps by default, UTF-8 JSON
 * when the request has `Content-Type: application/json`; a reply uses the request's
 * encoding. MessagePack extensions (msgpackr records, timestamps, typed arrays) are
 * not part of the protocol: msgpackr would decode some of them into plain-looking
 * objects, so the raw bytes are walked once to find any extension header first.
 */
import { Packr, Unpackr } from 'msgpackr';

export type Encoding = 'msgpack' | 'json';

export const JSON_CONTENT_TYPE = 'application/json';

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export function packMsgpack(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function unpackMsgpack(bytes: Uint8Array): unknown {
  return unpackr.unpack(bytes);
}

/** Decodes a sequence of concatenated MessagePack values (snapshot bodies). */
export function unpackMsgpackMultiple(bytes: Uint8Array): unknown[] {
  return unpackr.unpackMultiple(bytes) as unknown[];
}

/**
 * Calls `fn` for each MessagePack value in `bytes` with its byte range; `fn` returns
 * false to stop, so a long sequence can be decoded a slice at a time, resuming at `end`.
 */
export function unpackMsgpackEach(bytes: Uint8Array, fn: (value: unknown, start: number, end: number) => boolean): void {
  // msgpackr always passes both positions with a callback; its typing says "maybe".
  unpackr.unpackMultiple(bytes, fn as (value: unknown, start?: number, end?: number) => boolean);
}

/** A one-byte MessagePack value (nil), decoded only to take msgpackr's place. */
const NIL = Uint8Array.of(0xc0);

/**
 * msgpackr keeps the last buffer it decoded, and a DataView on it, in module variables
 * until the next decode: decoding one byte lets it go (`releaseDecodedBuffers`).
 */
export function releaseMsgpackBuffer(): void {
  unpackr.unpack(NIL);
}

export function encodeBody(value: unknown, encoding: Encoding): Uint8Array {
  return encoding === 'json' ? utf8Encoder.encode(JSON.stringify(value)) : packr.pack(value);
}

export type Decoded = { ok: true; value: unknown } | { ok: false; message: string };

/** Decodes a body; never throws. An empty body decodes as `undefined`. */
export function decodeBody(bytes: Uint8Array, encoding: Encoding): Decoded {
  if (bytes.length === 0) return { ok: true, value: undefined };
  try {
    if (encoding === 'json') return { ok: true, value: JSON.parse(utf8Decoder.decode(bytes)) };
    const at = findExtension(bytes);
    if (at >= 0) {
      return { ok: false, message: `MessagePack extension at byte ${at} is not part of the protocol (send plain maps, arrays and scalars)` };
    }
    return { ok: true, value: unpackr.unpack(bytes) };
  } catch (err) {
    return { ok: false, message: `body is not valid ${encoding === 'json' ? 'JSON' : 'MessagePack'}: ${(err as Error).message}` };
  }
}

/**
 * Walks a MessagePack value and returns the offset of the first extension (fixext,
 * ext 8/16/32), or -1 when there is none. Malformed input also returns -1: the real
 * decoder then reports it. Iterative, allocation-free; `pending` counts the values
 * still to be read at this point of the walk.
 */
export function findExtension(b: Uint8Array): number {
  let i = 0;
  let pending = 1;
  const n = b.length;
  while (pending > 0 && i < n) {
    pending--;
    const t = b[i]!;
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) { i += 1; continue; }
    if (t <= 0x8f) { pending += 2 * (t & 0x0f); i += 1; continue; } // fixmap
    if (t <= 0x9f) { pending += t & 0x0f; i += 1; continue; } // fixarray
    if (t <= 0xbf) { i += 1 + (t & 0x1f); continue; } // fixstr
    switch (t) {
      case 0xc4: case 0xd9: i += 2 + (b[i + 1] ?? 0); break; // bin8, str8
      case 0xc5: case 0xda: i += 3 + u16(b, i + 1); break;
      case 0xc6: case 0xdb: i += 5 + u32(b, i + 1); break;
      case 0xca: i += 5; break;
      case 0xcb: i += 9; break;
      case 0xcc: case 0xd0: i += 2; break;
      case 0xcd: case 0xd1: i += 3; break;
      case 0xce: case 0xd2: i += 5; break;
      case 0xcf: case 0xd3: i += 9; break;
      case 0xdc: pending += u16(b, i + 1); i += 3; break;
      case 0xdd: pending += u32(b, i + 1); i += 5; break;
      case 0xde: pending += 2 * u16(b, i + 1); i += 3; break;
      case 0xdf: pending += 2 * u32(b, i + 1); i += 5; break;
      case 0xc1: return -1; // never used: the decoder refuses it with its own message
      default: return i; // 0xc7-0xc9 ext, 0xd4-0xd8 fixext
    }
  }
  return -1;
}

function u16(b: Uint8Array, i: number): number {
  return ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
}

function u32(b: Uint8Array, i: number): number {
  return (((b[i] ?? 0) << 24) >>> 0) + (((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0));
}

/** The chunks as one buffer (snapshot bodies travel and are checked whole). */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
