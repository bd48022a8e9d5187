/**
 * A node's simulated disk, which outlives the node's incarnations: every file has its
 * bytes as the page cache holds them and a durable length. Appends land in the page
 * cache when their (simulated) write completes; a sync makes what was written before
 * it durable; truncate, remove and the atomic replace are durable when they resolve,
 * as LogStorage promises. A process crash keeps the page cache; a power loss cuts
 * every file back to its durable length, except that the last unsynced append may
 * survive in part (a torn write). Faults: a full disk (appends and atomic writes fail
 * with ENOSPC) and a corrupted byte inside a record that is not the last.
 *
 * The disk also indexes the journal frames it holds (seq -> file, end offset, epoch),
 * which the invariant checker reads.
 */
import type { AppendHandle, LogStorage } from '@txtest/journal';
import { FRAME_OVERHEAD_BYTES, frameEndAt, frameSpanAt, listSegments, parseSnapshotName, readEpoch, readSeq } from '@txtest/journal';
import { decodeRecord } from '@txtest/protocol';
import type { EpochRecord, EpochStorage } from '@txtest/cluster';
import type { Rng } from './prng';
import type { Owner, Scheduler } from './scheduler';

interface File {
  buf: Uint8Array;
  len: number;
  durable: number;
}

export interface DiskConfig {
  writeMeanMs: number;
  syncMeanMs: number;
}

export class SimDisk {
  readonly files = new Map<string, File>();
  /** Where each journal frame written to this disk ends: seq -> [file, end offset]. Rebuilt after cuts. */
  private index = new Map<number, [string, number]>();
  epochRecord: EpochRecord | null = null;
  full = false;
  /** The last append that is not yet synced: the candidate for a torn write. */
  private lastAppend: { name: string; from: number } | null = null;
  cfg: DiskConfig = { writeMeanMs: 0.05, syncMeanMs: 1 };

  constructor(
    readonly name: string,
    private readonly sched: Scheduler,
    private readonly rng: Rng,
  ) {}

  read(name: string): Uint8Array | undefined {
    const f = this.files.get(name);
    return f === undefined ? undefined : f.buf.slice(0, f.len);
  }

  appendNow(name: string, chunks: readonly Uint8Array[]): void {
    let f = this.files.get(name);
    if (f === undefined) this.files.set(name, (f = { buf: new Uint8Array(4096), len: 0, durable: 0 }));
    let add = 0;
    for (const c of chunks) add += c.length;
    if (f.len + add > f.buf.length) {
      const grown = new Uint8Array(Math.max(f.len + add, f.buf.length * 2));
      grown.set(f.buf.subarray(0, f.len));
      f.buf = grown;
    }
    this.lastAppend = { name, from: f.len };
    const from = f.len;
    for (const c of chunks) {
      f.buf.set(c, f.len);
      f.len += c.length;
    }
    if (name.endsWith('.log')) this.indexFrames(name, f, from);
  }

  private indexFrames(name: string, f: File, from: number): void {
    let off = from;
    for (;;) {
      const end = frameSpanAt(f.buf, off, f.len);
      if (end < 0) break;
      this.index.set(readSeq(f.buf, off), [name, end]);
      off = end;
    }
  }

  private reindex(): void {
    this.index = new Map();
    for (const seg of listSegments([...this.files.keys()])) this.indexFrames(seg.name, this.files.get(seg.name)!, 0);
  }

  /** Whether this disk holds record `seq`: in a snapshot, or as a frame written (and synced, if `durable`). */
  holds(seq: number, durable: boolean): boolean {
    for (const name of this.files.keys()) {
      const snapSeq = parseSnapshotName(name);
      if (snapSeq !== null && snapSeq >= seq) return true;
    }
    const at = this.index.get(seq);
    if (at === undefined) return false;
    const f = this.files.get(at[0]);
    return f !== undefined && f.len >= at[1] && (!durable || f.durable >= at[1]);
  }

  syncNow(name: string, upTo: number): void {
    const f = this.files.get(name);
    if (f !== undefined) f.durable = Math.max(f.durable, Math.min(upTo, f.len));
  }

  truncateNow(name: string, size: number): void {
    const f = this.files.get(name);
    if (f === undefined) return;
    f.len = Math.min(f.len, size);
    f.durable = f.len;
    this.reindex();
  }

  removeNow(name: string): void {
    this.files.delete(name);
    if (name.endsWith('.log')) this.reindex();
  }

  /**
   * Overwrites bytes in place (extending the file past its end if they reach that far).
   * The disk keeps no old bytes to fall back on, so a power loss before the next sync
   * cuts the file back to `offset`: harsher than a real disk, never kinder.
   */
  writeAtNow(name: string, offset: number, bytes: Uint8Array): void {
    const f = this.files.get(name)!;
    const inside = Math.min(bytes.length, f.len - offset);
    f.buf.set(bytes.subarray(0, inside), offset);
    if (inside < bytes.length) this.appendNow(name, [bytes.subarray(inside)]);
    f.durable = Math.min(f.durable, offset);
    if (name.endsWith('.log')) this.reindex();
  }

  /** A rename is durable when it resolves; the bytes keep their durable length (synced before, as the caller does). */
  renameNow(from: string, to: string): void {
    const f = this.files.get(from)!;
    this.files.delete(from);
    this.files.set(to, f);
    if (from.endsWith('.log') || to.endsWith('.log')) this.reindex();
  }

  replaceNow(name: string, chunks: readonly Uint8Array[]): void {
    this.files.delete(name);
    this.appendNow(name, chunks);
    const f = this.files.get(name)!;
    f.durable = f.len;
  }

  /** Power loss: unsynced bytes are gone, but the last append may survive in part. */
  powerLoss(torn: boolean): string {
    let note = '';
    const last = this.lastAppend;
    for (const [name, f] of this.files) {
      let keep = f.durable;
      if (torn && last !== null && last.name === name && f.len > f.durable) {
        const from = Math.max(last.from, f.durable);
        if (f.len > from) {
          keep = from + this.rng.int(1, f.len - from - 1 > 0 ? f.len - from - 1 : 1);
          keep = Math.min(keep, f.len);
          note = ` torn ${name} at ${keep} (durable ${f.durable}, written ${f.len})`;
        }
      }
      f.len = keep;
      f.durable = keep;
    }
    this.lastAppend = null;
    this.reindex();
    return note;
  }

  /**
   * Flips a byte inside a record of a segment, never the last record of the newest
   * segment (that would be a torn tail, which recovery repairs by design). Returns a
   * description, or null when no such record exists.
   */
  corruptMiddle(): string | null {
    const segs = listSegments([...this.files.keys()]);
    const candidates: { name: string; start: number; end: number }[] = [];
    for (let i = 0; i < segs.length; i++) {
      const name = segs[i]!.name;
      const f = this.files.get(name)!;
      const frames: { start: number; end: number }[] = [];
      let off = 0;
      while (off < f.len) {
        const next = frameEndAt(f.buf, off, f.len);
        if (next < 0) break;
        frames.push({ start: off, end: next });
        off = next;
      }
      if (i === segs.length - 1) frames.pop();
      for (const fr of frames) candidates.push({ name, ...fr });
    }
    if (candidates.length === 0) return null;
    const c = this.rng.pick(candidates);
    const at = this.rng.int(c.start + 8, c.end - 1);
    const f = this.files.get(c.name)!;
    f.buf[at]! ^= 1 << this.rng.int(0, 7);
    return `${c.name} byte ${at}`;
  }

  /** Every journal frame on this disk, by seq: the newest copy wins (segments are in seq order). */
  frames(): Map<number, { epoch: number; bytes: Uint8Array }> {
    const out = new Map<number, { epoch: number; bytes: Uint8Array }>();
    for (const seg of listSegments([...this.files.keys()])) {
      const f = this.files.get(seg.name)!;
      let off = 0;
      while (off < f.len) {
        const next = frameEndAt(f.buf, off, f.len);
        if (next < 0) break;
        out.set(readSeq(f.buf, off), { epoch: readEpoch(f.buf, off), bytes: f.buf.subarray(off, next) });
        off = next;
      }
    }
    return out;
  }

  /** The request id of every record in this disk's log, by seq. */
  ids(): Map<number, string> {
    const out = new Map<number, string>();
    for (const [seq, f] of this.frames()) out.set(seq, decodeRecord(f.bytes.subarray(FRAME_OVERHEAD_BYTES)).id);
    return out;
  }

  wipe(): void {
    this.files.clear();
    this.epochRecord = null;
    this.lastAppend = null;
    this.index.clear();
  }

  ioMs(sync: boolean): number {
    const mean = sync ? this.cfg.syncMeanMs : this.cfg.writeMeanMs;
    let ms = this.rng.exp(mean);
    if (this.rng.chance(0.01)) ms *= 30;
    return ms;
  }

  /** Runs `fn` after an I/O latency, for the incarnation `owner`; a dead one's I/O never completes. */
  io<T>(owner: Owner, sync: boolean, label: string, fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!owner.alive) return;
      this.sched.after(
        this.ioMs(sync),
        () => {
          try {
            resolve(fn());
          } catch (err) {
            reject(err);
          }
        },
        owner,
        `io ${this.name} ${label}`,
      );
    });
  }
}

function enospc(name: string): Error {
  return Object.assign(new Error(`ENOSPC: no space left on device, write ${name}`), { code: 'ENOSPC', simDisk: true });
}

function enoent(name: string): Error {
  return Object.assign(new Error(`ENOENT: no such file: ${name}`), { code: 'ENOENT' });
}

/** The journal's LogStorage seam on a SimDisk, for one incarnation of a node. */
export class SimLogStorage implements LogStorage {
  constructor(
    private readonly disk: SimDisk,
    private readonly owner: Owner,
  ) {}

  list(): Promise<string[]> {
    return this.disk.io(this.owner, false, 'list', () => [...this.disk.files.keys()]);
  }

  read(name: string): Promise<Uint8Array> {
    return this.disk.io(this.owner, false, `read ${name}`, () => {
      const b = this.disk.read(name);
      if (b === undefined) throw enoent(name);
      return b;
    });
  }

  readAt(name: string, offset: number, length: number): Promise<Uint8Array> {
    return this.disk.io(this.owner, false, `read ${name} at ${offset}`, () => {
      const f = this.disk.files.get(name);
      if (f === undefined) throw enoent(name);
      return f.buf.slice(Math.min(offset, f.len), Math.min(offset + length, f.len));
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.disk.io(this.owner, true, `rename ${from} ${to}`, () => {
      if (!this.disk.files.has(from)) throw enoent(from);
      this.disk.renameNow(from, to);
    });
  }

  writeAt(name: string, offset: number, bytes: Uint8Array): Promise<void> {
    const copy = bytes.slice();
    return this.disk.io(this.owner, false, `write ${name} at ${offset}`, () => {
      const f = this.disk.files.get(name);
      if (f === undefined) throw enoent(name);
      if (offset < 0 || offset > f.len) throw new RangeError(`writeAt offset ${offset} outside ${name} (${f.len} bytes)`);
      if (this.disk.full && offset + copy.length > f.len) throw enospc(name);
      this.disk.writeAtNow(name, offset, copy);
    });
  }

  openAppend(name: string): Promise<AppendHandle> {
    return this.disk.io(this.owner, false, `open ${name}`, () => {
      if (!this.disk.files.has(name)) {
        if (this.disk.full) throw enospc(name);
        this.disk.appendNow(name, []);
      }
      return new SimAppendHandle(this.disk, this.owner, name);
    });
  }

  truncate(name: string, size: number): Promise<void> {
    return this.disk.io(this.owner, true, `truncate ${name} ${size}`, () => this.disk.truncateNow(name, size));
  }

  remove(name: string): Promise<void> {
    return this.disk.io(this.owner, true, `remove ${name}`, () => this.disk.removeNow(name));
  }

  writeAtomic(name: string, chunks: Uint8Array[]): Promise<void> {
    const copy = chunks.map((c) => c.slice());
    return this.disk.io(this.owner, true, `replace ${name}`, () => {
      if (this.disk.full) throw enospc(name);
      this.disk.replaceNow(name, copy);
    });
  }
}

class SimAppendHandle implements AppendHandle {
  private closed = false;

  constructor(
    private readonly disk: SimDisk,
    private readonly owner: Owner,
    private readonly name: string,
  ) {}

  get size(): number {
    return this.disk.files.get(this.name)?.len ?? 0;
  }

  append(chunks: Uint8Array[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`append to closed handle ${this.name}`));
    const copy = chunks.map((c) => c.slice());
    return this.disk.io(this.owner, false, `append ${this.name}`, () => {
      if (this.disk.full) throw enospc(this.name);
      this.disk.appendNow(this.name, copy);
    });
  }

  sync(): Promise<void> {
    const upTo = this.size;
    return this.disk.io(this.owner, true, `sync ${this.name}`, () => this.disk.syncNow(this.name, upTo));
  }

  close(): Promise<void> {
    this.closed = true;
    return this.disk.io(this.owner, false, `close ${this.name}`, () => undefined);
  }
}

/** The epoch record on a SimDisk: replaced atomically, durable once saved. */
export class SimEpochStorage implements EpochStorage {
  constructor(
    private readonly disk: SimDisk,
    private readonly owner: Owner,
  ) {}

  load(): Promise<EpochRecord | null> {
    return this.disk.io(this.owner, false, 'epoch load', () => (this.disk.epochRecord === null ? null : structuredClone(this.disk.epochRecord)));
  }

  save(record: EpochRecord): Promise<void> {
    const copy = structuredClone(record);
    return this.disk.io(this.owner, true, `epoch save ${record.epoch}`, () => {
      if (this.disk.full) throw enospc('epoch.json');
      this.disk.epochRecord = copy;
    });
  }
}
