/**
 * An in-memory LogStorage. It is a complete implementation of the seam (not a mock):
 * the journal's unit tests run recovery and the writer against it, and it is the
 * natural base for the simulator's fault-injecting storage.
 *
 * Memory has no page cache, so "written" and "durable" are the same thing here and
 * `sync()` only counts calls. A simulator that wants to model lost unsynced writes
 * should wrap or replace this class.
 */
import type { AppendHandle, LogStorage } from './storage';

export class MemoryLogStorage implements LogStorage {
  /**
   * The files, by name, with their exact content. Tests may read and replace entries
   * directly (e.g. to plant a stale or damaged file).
   */
  readonly files = new Map<string, Uint8Array>();
  /** Number of `append` calls made through any handle; a group commit makes one per group. */
  appendCalls = 0;
  /** Number of `sync` calls made through any handle. */
  syncCalls = 0;
  /**
   * Spare capacity behind each appended file, so that appending n bytes at a time costs
   * amortized O(n) rather than copying the whole file every time. `files` always holds
   * a view of exactly the file's length into this buffer.
   */
  private readonly backing = new Map<string, Uint8Array>();

  async list(): Promise<string[]> {
    return [...this.files.keys()];
  }

  async read(name: string): Promise<Uint8Array> {
    // A copy, as a real read would be: later appends or truncations must not change
    // bytes a reader already holds.
    return this.get(name).slice();
  }

  async readAt(name: string, offset: number, length: number): Promise<Uint8Array> {
    const f = this.get(name);
    return f.slice(Math.min(offset, f.length), Math.min(offset + length, f.length));
  }

  async rename(from: string, to: string): Promise<void> {
    const f = this.get(from);
    const b = this.backing.get(from);
    this.files.delete(from);
    this.backing.delete(from);
    this.files.set(to, f);
    if (b) this.backing.set(to, b);
    else this.backing.delete(to);
  }

  async writeAt(name: string, offset: number, bytes: Uint8Array): Promise<void> {
    const f = this.get(name);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > f.length) throw new RangeError(`writeAt offset ${offset} outside ${name} (${f.length} bytes)`);
    const inside = Math.min(bytes.length, f.length - offset);
    // In place is safe: readers got copies. What runs past the end is an append.
    f.set(bytes.subarray(0, inside), offset);
    if (inside < bytes.length) this.appendTo(name, [bytes.subarray(inside)]);
  }

  async openAppend(name: string): Promise<AppendHandle> {
    if (!this.files.has(name)) this.files.set(name, new Uint8Array(0));
    return new MemoryAppendHandle(this, name);
  }

  async truncate(name: string, size: number): Promise<void> {
    this.cut(name, size);
  }

  async remove(name: string): Promise<void> {
    this.files.delete(name);
    this.backing.delete(name);
  }

  async writeAtomic(name: string, chunks: Uint8Array[]): Promise<void> {
    // Build the new content completely, then swap it in with one map update: readers see
    // either the old file or the new one, as with rename().
    this.files.set(name, concat(chunks));
    this.backing.delete(name);
  }

  /** Flips the bits of the byte at `offset` (XOR with `mask`), to simulate media damage. */
  corrupt(name: string, offset: number, mask = 0xff): void {
    const f = this.get(name);
    if (offset < 0 || offset >= f.length) throw new RangeError(`offset ${offset} outside ${name} (${f.length} bytes)`);
    f[offset]! ^= mask;
  }

  /** Cuts a file to `size` bytes, to simulate a torn write (synchronous version of truncate). */
  cut(name: string, size: number): void {
    const f = this.get(name);
    if (size < 0 || size > f.length) throw new RangeError(`cannot cut ${name} (${f.length} bytes) to ${size}`);
    this.files.set(name, f.slice(0, size));
    this.backing.delete(name);
  }

  /** Appends `chunks` to a file (used by the append handle). */
  appendTo(name: string, chunks: Uint8Array[]): void {
    const cur = this.get(name);
    let add = 0;
    for (const c of chunks) add += c.length;
    const newLen = cur.length + add;
    let buf = this.backing.get(name);
    // Reuse the spare capacity only if `files` still shows a prefix of it; a test may
    // have replaced the entry, and then the backing buffer is stale.
    if (!buf || buf.buffer !== cur.buffer || cur.byteOffset !== buf.byteOffset || buf.length < newLen) {
      const grown = new Uint8Array(Math.max(newLen, buf && buf.buffer === cur.buffer ? buf.length * 2 : 0, 4096));
      grown.set(cur, 0);
      buf = grown;
      this.backing.set(name, buf);
    }
    let o = cur.length;
    for (const c of chunks) {
      buf.set(c, o);
      o += c.length;
    }
    this.files.set(name, buf.subarray(0, newLen));
  }

  /** Current size of a file in bytes. */
  sizeOf(name: string): number {
    return this.get(name).length;
  }

  private get(name: string): Uint8Array {
    const f = this.files.get(name);
    if (!f) throw Object.assign(new Error(`ENOENT: no such file in MemoryLogStorage: ${name}`), { code: 'ENOENT' });
    return f;
  }
}

class MemoryAppendHandle implements AppendHandle {
  private closed = false;

  constructor(
    private readonly storage: MemoryLogStorage,
    private readonly name: string,
  ) {}

  get size(): number {
    // Read through to the storage so that a truncation made elsewhere is visible, as the
    // end-of-file position of an O_APPEND descriptor would be.
    return this.storage.files.has(this.name) ? this.storage.sizeOf(this.name) : 0;
  }

  async append(chunks: Uint8Array[]): Promise<void> {
    this.check();
    this.storage.appendCalls++;
    if (!this.storage.files.has(this.name)) this.storage.files.set(this.name, new Uint8Array(0));
    this.storage.appendTo(this.name, chunks);
  }

  async sync(): Promise<void> {
    this.check();
    this.storage.syncCalls++;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private check(): void {
    if (this.closed) throw new Error(`MemoryLogStorage: handle for ${this.name} is closed`);
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
