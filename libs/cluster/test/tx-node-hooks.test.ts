/**
 * The observer hooks of a real standalone TxNode on in-memory storage: every record
 * applied (own turns, then the replay of a restart), every snapshot load and reset, and
 * a corrupt log reported as 'journal-corrupt' before the start rejects. Waiting is on
 * the role-change hook, never on time.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { replyOf, type Clock, type ReplySink, type RoleState } from '@txtest/actors';
import { MemoryLogStorage, segmentName } from '@txtest/journal';
import { getModel } from '@txtest/models';
import { subjects } from '@txtest/protocol';
import type { EpochRecord, EpochStorage } from '../src/epochs/epoch-store';
import { TxNode, type CoreErrorKind, type TxNodeOptions } from '../src/index';
import { lineLogger } from './helpers/manual-clock';
import { MemoryBus } from './helpers/memory-bus';

class MemoryEpochStorage implements EpochStorage {
  record: EpochRecord | null = null;
  async load(): Promise<EpochRecord | null> {
    return this.record;
  }
  async save(record: EpochRecord): Promise<void> {
    this.record = structuredClone(record);
  }
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

interface Seen {
  applied: [number, string, number][];
  installed: number[];
  errors: [CoreErrorKind, string][];
}

function node(
  storage: MemoryLogStorage,
  epochs: MemoryEpochStorage,
  seen: Seen,
  reached: (role: RoleState) => void,
  over: Partial<TxNodeOptions> = {},
): TxNode {
  return new TxNode({
    nodeId: 'n1',
    peerId: null,
    subjects: subjects('t', 'hooks'),
    transport: new MemoryBus(),
    clock: realClock,
    defer: queueMicrotask,
    logStorage: storage,
    epochStorage: epochs,
    log: lineLogger([]),
    getModel,
    fsync: { kind: 'never' },
    bodyBytesMax: 65536,
    snapshotEveryRecords: 0,
    segmentBytesMax: 1 << 20,
    repairLog: false,
    statusExtras: () => ({ pid: 0, http: '' }),
    onRoleChange: (c) => reached(c.to),
    onApplied: (seq, id, epoch) => void seen.applied.push([seq, id, epoch]),
    onSnapshotInstalled: (seq) => void seen.installed.push(seq),
    onCoreError: (kind, err) => void seen.errors.push([kind, err.name]),
    ...over,
  });
}

/** Starts a node and resolves once it serves solo. */
async function serving(storage: MemoryLogStorage, epochs: MemoryEpochStorage, seen: Seen): Promise<TxNode> {
  let solo!: () => void;
  const ready = new Promise<void>((resolve) => (solo = resolve));
  const n = node(storage, epochs, seen, (role) => role === 'solo' && solo());
  await n.start();
  await ready;
  return n;
}

/** Submits credits and resolves once each is replied to. */
function credit(n: TxNode, ids: string[]): Promise<void> {
  let left = ids.length;
  return new Promise((resolve, reject) => {
    const sink: ReplySink = {
      done: (_i, e) => (replyOf(e).ok ? --left === 0 && resolve() : reject(new Error(`refused ${e.id}`))),
      refused: (_i, r) => reject(new Error(JSON.stringify(r))),
    };
    for (const id of ids) n.processor.submit({ id, asset: `acct-${id}`, op: 'credit', args: { amount: 1 }, model: 'account' }, sink, 0);
  });
}

const fresh = (): Seen => ({ applied: [], installed: [], errors: [] });

describe('TxNode observer hooks', () => {
  it('onApplied sees its own turns, and after a restart the replay; onSnapshotInstalled the reset and the snapshot load', async () => {
    const storage = new MemoryLogStorage();
    const epochs = new MemoryEpochStorage();
    const first = fresh();
    const a = await serving(storage, epochs, first);
    // An empty log is a reset to nothing.
    expect(first.installed).toEqual([0]);
    await credit(a, ['u1', 'u2']);
    expect(first.applied).toEqual([
      [1, 'u1', 1],
      [2, 'u2', 1],
    ]);
    expect(await a.snapshot()).toBe(2);
    await credit(a, ['u3']);
    await a.stop();

    const second = fresh();
    const b = await serving(storage, epochs, second);
    // The snapshot at 2 is loaded, then only seq 3 is replayed from the log.
    expect(second.installed).toEqual([2]);
    expect(second.applied).toEqual([[3, 'u3', 1]]);
    await credit(b, ['u4']);
    expect(second.applied.at(-1)).toEqual([4, 'u4', 2]);
    expect(second.errors).toEqual([]);
    await b.stop();
  });

  it('onRecovered runs once per start, after the replay and the packing of its ids, before the node takes a role', async () => {
    const storage = new MemoryLogStorage();
    const epochs = new MemoryEpochStorage();
    const a = await serving(storage, epochs, fresh());
    await credit(a, ['u1', 'u2']);
    await a.stop();
    // What each hook saw, in order: recovering, the replay's records, the recovery's end, then the role.
    const order: string[] = [];
    let solo!: () => void;
    const ready = new Promise<void>((resolve) => (solo = resolve));
    // packSome(0) tells whether remembered ids are still unpacked (garbage to be, which the app's collection should find gone).
    const b: TxNode = node(storage, epochs, fresh(), () => undefined, {
      onApplied: (seq) => void order.push(`applied ${seq}`),
      onRecovered: () => void order.push(b.processor.packSome(0) ? 'recovered unpacked' : 'recovered'),
      onRoleChange: (c) => {
        order.push(c.to);
        if (c.to === 'solo') solo();
      },
    });
    await b.start();
    await ready;
    expect(order.slice(0, order.indexOf('recovered') + 1)).toEqual(['recovering', 'applied 1', 'applied 2', 'recovered']);
    expect(order.filter((x) => x === 'recovered')).toHaveLength(1);
    expect(order.indexOf('recovered')).toBeLessThan(order.indexOf('solo'));
    await b.stop();
  });

  it('by onRecovered nothing holds the files the recovery read (snapshot, segments): a full collection there frees them', async () => {
    const storage = new MemoryLogStorage();
    const epochs = new MemoryEpochStorage();
    const a = await serving(storage, epochs, fresh());
    await credit(a, ['u1', 'u2']);
    expect(await a.snapshot()).toBe(2);
    await credit(a, ['u3']);
    await a.stop();
    // The bytes of every file read, watched without keeping them.
    const reads: WeakRef<ArrayBufferLike>[] = [];
    const read = storage.read.bind(storage);
    storage.read = async (name) => {
      const bytes = await read(name);
      reads.push(new WeakRef(bytes.buffer));
      return bytes;
    };
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let held: number | null = null;
    let solo!: () => void;
    const ready = new Promise<void>((resolve) => (solo = resolve));
    const b = node(storage, epochs, fresh(), (role) => role === 'solo' && solo(), {
      onRecovered: () => {
        gc();
        held = reads.filter((r) => r.deref() !== undefined).length;
      },
    });
    await b.start();
    await ready;
    expect(reads.length).toBeGreaterThan(0);
    expect(held).toBe(0);
    expect(b.processor.lastSeq).toBe(3);
    await b.stop();
  });

  it("onCoreError names a corrupt log 'journal-corrupt', and the start rejects", async () => {
    const storage = new MemoryLogStorage();
    const epochs = new MemoryEpochStorage();
    const a = await serving(storage, epochs, fresh());
    await credit(a, ['u1', 'u2', 'u3']);
    await a.stop();
    // One byte of the first record flipped, with intact records after it: damage, not a torn tail.
    const seg = storage.files.get(segmentName(1))!;
    seg[12] = seg[12]! ^ 0xff;
    const seen = fresh();
    await expect(node(storage, epochs, seen, () => undefined).start()).rejects.toThrow(/journal/);
    expect(seen.errors).toEqual([['journal-corrupt', 'JournalCorruptError']]);
  });
});
