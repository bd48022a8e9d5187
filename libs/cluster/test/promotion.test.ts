/**
 * The promotion's claim at the arbiter: a compare-and-set on the revision last read
 * (one round trip when nothing changed), and a stale read judged again from what the
 * failed compare-and-set returned, never taken on trust. Then the epoch record: with an
 * arbiter the node serves while its save runs, without one only after it.
 */
import { describe, expect, it } from 'vitest';
import { Processor, type RoleEvent } from '@txtest/actors';
import { getModel } from '@txtest/models';
import type { Arbiter, ArbiterRead, ArbiterValue, CasResult } from '../src/epochs/arbiter';
import { EpochKeeper } from '../src/epochs/epoch-keeper';
import type { EpochRecord } from '../src/epochs/epoch-store';
import { Promotion } from '../src/epochs/promotion';
import { NO_FAULT_BEHAVIOURS } from '../src/faults';
import { Admission } from '../src/serving/admission';
import { lineLogger, ManualClock } from './helpers/manual-clock';

class CountingArbiter implements Arbiter {
  reads = 0;
  cas = 0;
  constructor(
    public value: ArbiterValue | null,
    public revision = 1,
  ) {}
  async read(): Promise<ArbiterRead> {
    this.reads++;
    return { value: this.value, revision: this.revision };
  }
  async compareAndSet(revision: number, value: ArbiterValue): Promise<CasResult> {
    this.cas++;
    if (revision !== this.revision) return { ok: false, current: { value: this.value, revision: this.revision } };
    this.value = value;
    return { ok: true, revision: ++this.revision };
  }
  async close(): Promise<void> {}
}

function promotion(arbiter: Arbiter | null, record: EpochRecord, save: (r: EpochRecord) => Promise<void> = async () => undefined) {
  const clock = new ManualClock();
  const log = lineLogger([]);
  const processor = new Processor({ clock, defer: () => undefined, getModel, onRecord: () => undefined, onEvent: () => undefined });
  const epochs = new EpochKeeper({ load: async () => record, save }, () => undefined);
  const events: RoleEvent[] = [];
  const failures: string[] = [];
  const p = new Promotion({
    nodeId: 'n2',
    arbiter,
    processor,
    admission: new Admission(processor, log),
    epochs,
    wiring: { durable: async () => undefined },
    faults: NO_FAULT_BEHAVIOURS,
    clock,
    log,
    whenReleased: () => undefined,
    peerEpoch: () => record.epoch,
    failed: () => null,
    fail: (err) => void failures.push((err as Error).message),
    send: (e) => void events.push(e),
  });
  return { p, epochs, events, failures };
}

const standbyOf3: EpochRecord = { epoch: 3, role: 'standby', primary: 'n1', history: [[3, 1]] };

describe('promotion at the arbiter', () => {
  it('a current cached read wins with one compare-and-set and no read', async () => {
    const arbiter = new CountingArbiter({ epoch: 3, primary: 'n1' });
    const { p, epochs, events } = promotion(arbiter, standbyOf3);
    await epochs.loadAtStart(null);
    p.arbiterRead = await arbiter.read();
    arbiter.reads = 0;
    await p.open();
    expect(events).toEqual([{ type: 'EPOCH_OPENED', epoch: 4 }]);
    expect([arbiter.reads, arbiter.cas]).toEqual([0, 1]);
    expect(arbiter.value).toMatchObject({ epoch: 4, primary: 'n2' });
    // The next promotion starts from what this one wrote.
    expect(p.arbiterRead).toEqual({ value: arbiter.value, revision: arbiter.revision });
  });

  it('a stale cached read is judged again: the arbiter now names the peer in a newer epoch, so the promotion is refused', async () => {
    const arbiter = new CountingArbiter({ epoch: 3, primary: 'n1' });
    const { p, epochs, events } = promotion(arbiter, standbyOf3);
    await epochs.loadAtStart(null);
    p.arbiterRead = await arbiter.read();
    // Meanwhile the peer opened epoch 4.
    await arbiter.compareAndSet(1, { epoch: 4, primary: 'n1' });
    await p.open();
    expect(events).toEqual([{ type: 'PROMOTION_FAILED', reason: 'the arbiter holds epoch 4 by n1' }]);
    expect(arbiter.value).toEqual({ epoch: 4, primary: 'n1' });
    expect(epochs.epoch).toBe(3);
  });

  it('a stale cached read whose newer value still allows the promotion wins on the second compare-and-set', async () => {
    const arbiter = new CountingArbiter({ epoch: 3, primary: 'n1' });
    const { p, epochs, events } = promotion(arbiter, standbyOf3);
    await epochs.loadAtStart(null);
    p.arbiterRead = { value: { epoch: 2, primary: 'n2' }, revision: 0 };
    await p.open();
    expect(events).toEqual([{ type: 'EPOCH_OPENED', epoch: 4 }]);
    expect(arbiter.cas).toBe(2);
    expect(arbiter.value).toMatchObject({ epoch: 4, primary: 'n2', firstSeq: 1 });
  });
});

/** A save that finishes when the test says so. */
function heldSave() {
  const saves: { record: EpochRecord; finish(err?: Error): void }[] = [];
  const save = (record: EpochRecord) => new Promise<void>((resolve, reject) => saves.push({ record, finish: (err) => (err ? reject(err) : resolve()) }));
  return { saves, save };
}

describe('the promotion and its epoch record', () => {
  it('with an arbiter the epoch opens while the record is still being saved', async () => {
    const held = heldSave();
    const { p, epochs, events, failures } = promotion(new CountingArbiter({ epoch: 3, primary: 'n1' }), standbyOf3, held.save);
    await epochs.loadAtStart(null);
    await p.open();
    expect(events).toEqual([{ type: 'EPOCH_OPENED', epoch: 4 }]);
    expect(held.saves.map((s) => s.record)).toEqual([
      {
        epoch: 4,
        role: 'primary',
        primary: 'n2',
        // Epoch 3 held no records here: epoch 4 begins where it would have.
        history: [[4, 1]],
      },
    ]);
    held.saves[0]!.finish();
    expect(failures).toEqual([]);
  });

  it('with an arbiter a save that fails afterwards fails the node', async () => {
    const held = heldSave();
    const { p, epochs, events, failures } = promotion(new CountingArbiter({ epoch: 3, primary: 'n1' }), standbyOf3, held.save);
    await epochs.loadAtStart(null);
    await p.open();
    held.saves[0]!.finish(new Error('disk full'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual([{ type: 'EPOCH_OPENED', epoch: 4 }]);
    expect(failures).toEqual(['disk full']);
    expect(epochs.epoch).toBe(3);
  });

  it('without an arbiter the epoch opens only once its record is saved', async () => {
    const held = heldSave();
    const { p, epochs, events } = promotion(null, standbyOf3, held.save);
    await epochs.loadAtStart(null);
    const opening = p.open();
    while (held.saves.length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual([]);
    held.saves[0]!.finish();
    await opening;
    expect(events).toEqual([{ type: 'EPOCH_OPENED', epoch: 4 }]);
  });
});
