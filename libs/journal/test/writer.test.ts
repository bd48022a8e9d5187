import { describe, expect, it } from 'vitest';
import {
  encodeFrame,
  JournalFailedError,
  JournalUsageError,
  LogWriter,
  MemoryLogStorage,
  recover,
  segmentName,
  type AppendHandle,
  type LogStorage,
  type LogWriterOptions,
} from '../src/index';
import { payloadFor, segmentsIn } from './helpers';

/** A MemoryLogStorage whose appends/syncs can be held back or made to fail. */
class ControlledStorage implements LogStorage {
  readonly mem = new MemoryLogStorage();
  readonly log: string[] = [];
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;
  failAppend: Error | null = null;
  failSync: Error | null = null;

  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
  }
  release(): void {
    this.open?.();
    this.gate = null;
  }
  list() {
    return this.mem.list();
  }
  read(n: string) {
    return this.mem.read(n);
  }
  readAt(n: string, o: number, l: number) {
    return this.mem.readAt(n, o, l);
  }
  rename(a: string, b: string) {
    return this.mem.rename(a, b);
  }
  truncate(n: string, s: number) {
    return this.mem.truncate(n, s);
  }
  remove(n: string) {
    return this.mem.remove(n);
  }
  writeAtomic(n: string, c: Uint8Array[]) {
    return this.mem.writeAtomic(n, c);
  }
  writeAt(n: string, o: number, b: Uint8Array) {
    return this.mem.writeAt(n, o, b);
  }
  async openAppend(name: string): Promise<AppendHandle> {
    this.log.push(`open ${name}`);
    const h = await this.mem.openAppend(name);
    return {
      get size() {
        return h.size;
      },
      append: async (chunks) => {
        this.log.push(`append ${chunks.length}`);
        if (this.gate) await this.gate;
        if (this.failAppend) throw this.failAppend;
        await h.append(chunks);
      },
      sync: async () => {
        this.log.push(`sync ${name}`);
        if (this.failSync) throw this.failSync;
        await h.sync();
      },
      close: async () => {
        this.log.push(`close ${name}`);
        await h.close();
      },
    };
  }
}

/** A defer that only runs when the test says so, to see exactly what one flush does. */
function manualDefer(): { defer: (fn: () => void) => void; run: () => number } {
  const tasks: Array<() => void> = [];
  return {
    defer: (fn) => tasks.push(fn),
    run: () => {
      const n = tasks.length;
      for (const t of tasks.splice(0)) t();
      return n;
    },
  };
}

function frame(seq: number, epoch = 1): Uint8Array {
  return encodeFrame(epoch, seq, payloadFor(seq));
}

function makeWriter(storage: LogStorage, extra: Partial<LogWriterOptions> = {}) {
  const events: string[] = [];
  const errors: Error[] = [];
  const writer = new LogWriter({
    storage,
    lastSeq: 0,
    lastEpoch: 0,
    defer: (fn) => queueMicrotask(fn),
    onWritten: (s) => events.push(`written ${s}`),
    onSynced: (s) => events.push(`synced ${s}`),
    onError: (e) => errors.push(e),
    ...extra,
  });
  return { writer, events, errors };
}

describe('LogWriter', () => {
  it('writer: many appends before a flush become one append call', async () => {
    const mem = new MemoryLogStorage();
    const d = manualDefer();
    const { writer, events } = makeWriter(mem, { defer: d.defer });
    for (let s = 1; s <= 500; s++) writer.append(frame(s));
    expect(writer.lastSeq).toBe(500);
    expect(writer.writtenSeq).toBe(0);
    expect(d.run()).toBe(1); // one flush scheduled for all 500
    await writer.idle();
    expect(mem.appendCalls).toBe(1);
    expect(events).toEqual(['written 500']);
    expect(writer.bytesWritten).toBe(mem.files.get(segmentName(1))!.length);
  });

  it('writer: frames arriving during a write form the next group', async () => {
    const st = new ControlledStorage();
    const { writer, events } = makeWriter(st);
    st.hold();
    for (let s = 1; s <= 10; s++) writer.append(frame(s));
    await new Promise((r) => setImmediate(r)); // the first group is now in flight, held
    for (let s = 11; s <= 30; s++) writer.append(frame(s));
    expect(st.log.filter((l) => l.startsWith('append'))).toEqual(['append 10']);
    st.release();
    await writer.idle();
    expect(st.log.filter((l) => l.startsWith('append'))).toEqual(['append 10', 'append 20']);
    expect(events).toEqual(['written 10', 'written 30']);
  });

  it('writer: onWritten comes before onSynced, and sync covers what was written', async () => {
    const mem = new MemoryLogStorage();
    const { writer, events } = makeWriter(mem);
    for (let s = 1; s <= 5; s++) writer.append(frame(s));
    await writer.idle();
    await writer.sync();
    writer.append(frame(6));
    await writer.idle();
    await writer.sync();
    await writer.sync(); // nothing new: no fdatasync, no event
    expect(events).toEqual(['written 5', 'synced 5', 'written 6', 'synced 6']);
    expect(mem.syncCalls).toBe(2);
    expect(writer.syncedSeq).toBe(6);
  });

  it('writer: concurrent sync calls share one fdatasync', async () => {
    const mem = new MemoryLogStorage();
    const { writer, events } = makeWriter(mem);
    for (let s = 1; s <= 3; s++) writer.append(frame(s));
    await writer.idle();
    await Promise.all([writer.sync(), writer.sync(), writer.sync()]);
    expect(mem.syncCalls).toBe(1);
    expect(events).toEqual(['written 3', 'synced 3']);
  });

  it('writer: an "always" policy (sync from onWritten) acknowledges every record', async () => {
    const mem = new MemoryLogStorage();
    const synced: number[] = [];
    const holder: { w?: LogWriter } = {};
    const writer = new LogWriter({
      storage: mem,
      lastSeq: 0,
      lastEpoch: 0,
      defer: (fn) => setImmediate(fn),
      onWritten: () => void holder.w!.sync(),
      onSynced: (s) => synced.push(s),
      onError: (e) => {
        throw e;
      },
    });
    holder.w = writer;
    for (let s = 1; s <= 100; s++) {
      writer.append(frame(s));
      if (s % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    await writer.close();
    expect(synced.at(-1)).toBe(100);
    expect([...synced].sort((a, b) => a - b)).toEqual(synced);
  });

  it('writer: segments rotate at segmentBytesMax, are named by first seq, and the old one is synced and closed first', async () => {
    const st = new ControlledStorage();
    const fsz = frame(1).length;
    const { writer, events } = makeWriter(st, { segmentBytesMax: 1000, defer: (fn) => setImmediate(fn) });
    for (let s = 1; s <= 60; s++) {
      writer.append(frame(s));
      await writer.idle(); // one frame per group, to see rotation at frame granularity
    }
    await writer.close();
    const segs = await segmentsIn(st);
    expect(segs.length).toBeGreaterThan(3);
    for (const name of segs) {
      const size = (await st.read(name)).length;
      expect(size).toBeLessThanOrEqual(1000 + fsz);
    }
    // Each rotation: sync old, close old, then open new.
    const i = st.log.indexOf(`open ${segs[1]}`);
    expect(st.log.slice(i - 2, i + 1)).toEqual([`sync ${segs[0]}`, `close ${segs[0]}`, `open ${segs[1]}`]);
    expect(events.filter((e) => e.startsWith('synced')).length).toBeGreaterThanOrEqual(segs.length - 1);
    const rec = await recover(st, { warn: (m) => expect.fail(m) });
    expect(rec.lastSeq).toBe(60);
    expect(rec.segments).toEqual(segs);
  });

  it('writer: a group larger than the limit still goes to one fresh segment', async () => {
    const mem = new MemoryLogStorage();
    const d = manualDefer();
    const { writer } = makeWriter(mem, { segmentBytesMax: 200, defer: d.defer });
    writer.append(frame(1));
    d.run();
    await writer.idle();
    for (let s = 2; s <= 20; s++) writer.append(frame(s));
    d.run();
    await writer.idle();
    expect(await segmentsIn(mem)).toEqual([segmentName(1), segmentName(2)]);
  });

  it('writer: non-consecutive seqs or a decreasing epoch are programmer errors and throw', () => {
    const { writer } = makeWriter(new MemoryLogStorage(), { lastSeq: 10, lastEpoch: 3 });
    expect(() => writer.append(frame(12, 3))).toThrow(JournalUsageError);
    expect(() => writer.append(frame(10, 3))).toThrow(/consecutive/);
    expect(() => writer.append(frame(11, 2))).toThrow(/epochs must not decrease/);
    writer.append(frame(11, 3));
    expect(writer.lastSeq).toBe(11);
  });

  it('writer: after a restart it starts a fresh segment at lastSeq + 1', async () => {
    const mem = new MemoryLogStorage();
    const a = makeWriter(mem);
    for (let s = 1; s <= 5; s++) a.writer.append(frame(s));
    await a.writer.close();
    const rec = await recover(mem, { warn: () => {} });
    const b = makeWriter(mem, { lastSeq: rec.lastSeq, lastEpoch: rec.lastEpoch });
    for (let s = 6; s <= 8; s++) b.writer.append(frame(s, 2));
    await b.writer.close();
    expect(await segmentsIn(mem)).toEqual([segmentName(1), segmentName(6)]);
    expect((await recover(mem, { warn: () => {} })).lastSeq).toBe(8);
  });

  it('writer: truncateAfter cuts the segment at the right byte and deletes later segments', async () => {
    const mem = new MemoryLogStorage();
    const { writer } = makeWriter(mem, { segmentBytesMax: 500 });
    for (let s = 1; s <= 40; s++) {
      writer.append(frame(s));
      if (s % 3 === 0) await writer.idle();
    }
    await writer.idle();
    const before = await segmentsIn(mem);
    await writer.truncateAfter(17);
    const after = await segmentsIn(mem);
    const firsts = after.map((n) => Number(n.slice(0, 16)));
    expect(firsts.every((f) => f <= 17)).toBe(true);
    expect(after).toEqual(before.filter((n) => Number(n.slice(0, 16)) <= 17));
    expect([writer.lastSeq, writer.writtenSeq, writer.syncedSeq]).toEqual([17, 17, 17]);
    const rec = await recover(mem, { warn: (m) => expect.fail(m) });
    expect(rec.lastSeq).toBe(17);
    // The next group starts its own segment.
    writer.append(frame(18, 2));
    await writer.close();
    expect((await segmentsIn(mem)).at(-1)).toBe(segmentName(18));
    expect((await recover(mem, { warn: (m) => expect.fail(m) })).lastSeq).toBe(18);
  });

  it('writer: truncateAfter at a segment boundary removes the whole next segment', async () => {
    const mem = new MemoryLogStorage();
    const d = manualDefer();
    const { writer } = makeWriter(mem, { segmentBytesMax: 1, defer: d.defer });
    for (let s = 1; s <= 3; s++) {
      writer.append(frame(s));
      d.run();
      await writer.idle();
    }
    expect(await segmentsIn(mem)).toEqual([segmentName(1), segmentName(2), segmentName(3)]);
    await writer.truncateAfter(1);
    expect(await segmentsIn(mem)).toEqual([segmentName(1)]);
    expect(mem.files.get(segmentName(1))!.length).toBe(frame(1).length);
  });

  it('writer: truncateAfter refuses to run while a write is in flight', async () => {
    const st = new ControlledStorage();
    const { writer } = makeWriter(st);
    st.hold();
    writer.append(frame(1));
    writer.append(frame(2));
    await new Promise((r) => setImmediate(r));
    await expect(writer.truncateAfter(1)).rejects.toThrow(JournalUsageError);
    st.release();
    await writer.idle();
    await writer.truncateAfter(1);
    expect(writer.lastSeq).toBe(1);
  });

  it('writer: a failed write reports onError once and stops the writer', async () => {
    const st = new ControlledStorage();
    const { writer, errors } = makeWriter(st);
    st.failAppend = new Error('EIO: disk on fire');
    writer.append(frame(1));
    await writer.idle();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(JournalFailedError);
    expect((errors[0] as JournalFailedError).cause).toBe(st.failAppend);
    expect(() => writer.append(frame(2))).toThrow(JournalFailedError);
    await expect(writer.sync()).rejects.toThrow(JournalFailedError);
    await writer.close();
    expect(errors).toHaveLength(1);
  });

  it('writer: a failed sync reports onError and rejects sync()', async () => {
    const st = new ControlledStorage();
    const { writer, errors, events } = makeWriter(st);
    writer.append(frame(1));
    await writer.idle();
    st.failSync = new Error('EIO: fsync failed');
    await expect(writer.sync()).rejects.toBeInstanceOf(JournalFailedError);
    expect(errors).toHaveLength(1);
    expect(events).toEqual(['written 1']);
    expect(writer.failed).toBe(errors[0]);
  });

  it('writer: close writes, syncs and closes; appends after close throw', async () => {
    const st = new ControlledStorage();
    const { writer, events } = makeWriter(st);
    for (let s = 1; s <= 4; s++) writer.append(frame(s));
    await writer.close();
    expect(events).toEqual(['written 4', 'synced 4']);
    expect(st.log.at(-1)).toBe(`close ${segmentName(1)}`);
    expect(() => writer.append(frame(5))).toThrow(JournalUsageError);
  });
});
