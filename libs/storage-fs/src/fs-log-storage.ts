/**
 * FsLogStorage: the journal's LogStorage on a real directory, with node:fs.
 *
 * The callback API of node:fs is used (wrapped in small promises) rather than
 * fs/promises FileHandles because it is measurably cheaper per call, and the append
 * path runs once per group commit. libuv's writev loops over partial writes and over
 * more buffers than IOV_MAX, so one `append` is one logical write however many frames
 * it carries; we still check the byte count it reports.
 *
 * Durability: `sync` is fdatasync (the file's size is part of what fdatasync flushes,
 * so appended data is covered). Whenever a directory entry changes (create via
 * writeAtomic, remove), the directory itself is fsynced, because on Linux a rename or
 * unlink is not durable until its directory is.
 * Creating a file through openAppend also fsyncs the directory (when the file is new),
 * so that a segment whose contents were fdatasynced cannot vanish with its directory
 * entry; it happens once per segment, so it costs nothing measurable.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AppendHandle, LogStorage } from '@txtest/journal';

const TMP_SUFFIX = '.tmp';

export class FsLogStorage implements LogStorage {
  /** Absolute path of the log directory. */
  readonly dir: string;
  /** Temporary files this instance is writing right now, which `list` must not clean up. */
  private readonly writingTmp = new Set<string>();

  constructor(dir: string) {
    this.dir = path.resolve(dir);
    // Synchronous on purpose: it runs once at startup, and it lets the constructor
    // guarantee the directory exists without an async factory.
    fs.mkdirSync(this.dir, { recursive: true });
  }

  /**
   * File names in the directory (regular files only). Leftover `*.tmp` files are a
   * writeAtomic that crashed before its rename; they are removed here and not listed.
   */
  async list(): Promise<string[]> {
    const entries = await fs.promises.readdir(this.dir, { withFileTypes: true });
    const names: string[] = [];
    for (const e of entries) {
      if (!e.isFile()) continue;
      if (e.name.endsWith(TMP_SUFFIX)) {
        if (!this.writingTmp.has(e.name)) await unlinkIfExists(this.file(e.name));
        continue;
      }
      names.push(e.name);
    }
    return names;
  }

  async read(name: string): Promise<Uint8Array> {
    const buf = await fs.promises.readFile(this.file(name));
    // A plain Uint8Array view of the same memory (no copy), so that consumers see the
    // same type from every LogStorage: a Buffer's subarray() returns Buffers, which
    // compare, print and serialize differently.
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  async readAt(name: string, offset: number, length: number): Promise<Uint8Array> {
    const fd = await call<number>((cb) => fs.open(this.file(name), 'r', cb));
    try {
      const buf = new Uint8Array(length);
      let got = 0;
      // pread may return less than asked before the end of the file: read until full or at EOF.
      while (got < length) {
        const n = await call<number>((cb) => fs.read(fd, buf, got, length - got, offset + got, cb));
        if (n === 0) break;
        got += n;
      }
      return got === length ? buf : buf.subarray(0, got);
    } finally {
      await call<void>((cb) => fs.close(fd, cb));
    }
  }

  /** pwrite(2) into the existing file; no sync (the caller syncs the file, as after an append). */
  async writeAt(name: string, offset: number, bytes: Uint8Array): Promise<void> {
    const fd = await call<number>((cb) => fs.open(this.file(name), 'r+', cb));
    try {
      const st = await call<fs.Stats>((cb) => fs.fstat(fd, cb));
      if (!Number.isSafeInteger(offset) || offset < 0 || offset > st.size) throw new RangeError(`writeAt offset ${offset} outside ${name} (${st.size} bytes)`);
      let done = 0;
      // pwrite may write less than asked (a full disk, a signal): finish the rest or fail.
      while (done < bytes.length) {
        const n = await call<number>((cb) => fs.write(fd, bytes, done, bytes.length - done, offset + done, cb));
        if (n === 0) throw new Error(`short write: ${done} of ${bytes.length} bytes at ${offset} in ${name}`);
        done += n;
      }
    } finally {
      await call<void>((cb) => fs.close(fd, cb));
    }
  }

  /** rename(2), then an fsync of the directory so that the new name survives a crash. */
  async rename(from: string, to: string): Promise<void> {
    await fs.promises.rename(this.file(from), this.file(to));
    await this.syncDir();
  }

  async openAppend(name: string): Promise<AppendHandle> {
    // 'a' = O_APPEND | O_CREAT: every write lands at the current end of the file, which
    // stays right even if the file is truncated through another descriptor.
    const fd = await call<number>((cb) => fs.open(this.file(name), 'a', 0o644, cb));
    try {
      const st = await call<fs.Stats>((cb) => fs.fstat(fd, cb));
      // An empty file may have just been created by this open: make its entry durable.
      if (st.size === 0) await this.syncDir();
      return new FsAppendHandle(fd, st.size, name);
    } catch (err) {
      fs.close(fd, () => {});
      throw err;
    }
  }

  /** Cuts the file and fsyncs it, so the dropped bytes cannot come back after a crash. */
  async truncate(name: string, size: number): Promise<void> {
    const fd = await call<number>((cb) => fs.open(this.file(name), 'r+', cb));
    try {
      await call<void>((cb) => fs.ftruncate(fd, size, cb));
      await call<void>((cb) => fs.fsync(fd, cb));
    } finally {
      await call<void>((cb) => fs.close(fd, cb));
    }
  }

  /** Unlinks the file (a missing file is fine) and fsyncs the directory. */
  async remove(name: string): Promise<void> {
    if (await unlinkIfExists(this.file(name))) await this.syncDir();
  }

  async writeAtomic(name: string, chunks: Uint8Array[]): Promise<void> {
    const tmpName = name + TMP_SUFFIX;
    const tmp = this.file(tmpName);
    this.writingTmp.add(tmpName);
    try {
      const fd = await call<number>((cb) => fs.open(tmp, 'w', 0o644, cb));
      try {
        await writevAll(fd, chunks);
        await call<void>((cb) => fs.fsync(fd, cb));
      } finally {
        await call<void>((cb) => fs.close(fd, cb));
      }
      await fs.promises.rename(tmp, this.file(name));
      await this.syncDir();
    } catch (err) {
      await unlinkIfExists(tmp).catch(() => {});
      throw err;
    } finally {
      this.writingTmp.delete(tmpName);
    }
  }

  private file(name: string): string {
    // Names come from the journal, but a slash would escape the directory: refuse it.
    if (name.length === 0 || name.includes('/') || name.includes('\\') || name === '.' || name === '..') {
      throw new Error(`FsLogStorage: invalid file name ${JSON.stringify(name)}`);
    }
    return path.join(this.dir, name);
  }

  /** Makes renames, creations and unlinks in the directory durable. */
  private async syncDir(): Promise<void> {
    // Windows cannot open or fsync a directory; there a rename is as durable as it gets.
    if (process.platform === 'win32') return;
    const fd = await call<number>((cb) => fs.open(this.dir, 'r', cb));
    try {
      await call<void>((cb) => fs.fsync(fd, cb));
    } finally {
      await call<void>((cb) => fs.close(fd, cb));
    }
  }
}

class FsAppendHandle implements AppendHandle {
  private _size: number;
  private closed = false;

  constructor(
    private readonly fd: number,
    size: number,
    private readonly name: string,
  ) {
    this._size = size;
  }

  get size(): number {
    return this._size;
  }

  /**
   * A synchronous writev: one group's write into the page cache costs a few
   * microseconds, far less than handing it to libuv's thread pool and back (two thread
   * switches per group on a two-core machine). Only fdatasync, which waits for the
   * device, goes to the pool.
   */
  async append(chunks: Uint8Array[]): Promise<void> {
    this.check();
    this._size += writevAllSync(this.fd, chunks);
  }

  async sync(): Promise<void> {
    this.check();
    await call<void>((cb) => fs.fdatasync(this.fd, cb));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await call<void>((cb) => fs.close(this.fd, cb));
  }

  private check(): void {
    if (this.closed) throw new Error(`FsLogStorage: handle for ${this.name} is closed`);
  }
}

/** writev of all chunks, continuing after a short write; returns the byte count. */
function writevAllSync(fd: number, chunks: Uint8Array[]): number {
  let total = 0;
  for (const c of chunks) total += c.length;
  let done = fs.writevSync(fd, chunks);
  while (done < total) {
    // A short write on a regular file means the disk filled or a signal interrupted it;
    // finish the rest, or let the error (ENOSPC) surface.
    let skip = done;
    const rest: Uint8Array[] = [];
    for (const c of chunks) {
      if (skip >= c.length) skip -= c.length;
      else {
        rest.push(skip > 0 ? c.subarray(skip) : c);
        skip = 0;
      }
    }
    const n = fs.writevSync(fd, rest);
    if (n === 0) throw new Error(`short write: ${done} of ${total} bytes`);
    done += n;
  }
  return total;
}

/** One writev of all chunks; returns the byte count, and fails if it came up short. */
async function writevAll(fd: number, chunks: Uint8Array[]): Promise<number> {
  let total = 0;
  for (const c of chunks) total += c.length;
  if (total === 0) return 0;
  const written = await new Promise<number>((resolve, reject) => {
    fs.writev(fd, chunks, (err, bytes) => (err ? reject(err) : resolve(bytes)));
  });
  // libuv retries short writes internally, so a short count means the write stopped
  // (e.g. out of space without an error code). Report it: the file now ends mid-record.
  if (written !== total) throw new Error(`short write: ${written} of ${total} bytes`);
  return total;
}

async function unlinkIfExists(file: string): Promise<boolean> {
  try {
    await fs.promises.unlink(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Adapts a node-style callback call to a promise without util.promisify's overhead per call site. */
function call<T>(fn: (cb: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn((err, value) => (err ? reject(err) : resolve(value)));
  });
}
