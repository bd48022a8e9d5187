import { describe, expect, it } from 'vitest';
import { choosePrimary } from '../src/epochs/election';
import type { EpochRecord } from '../src/epochs/epoch-store';
import { recordAfterLog } from '../src/epochs/log-epochs';

const standbyOfN1: EpochRecord = {
  epoch: 3,
  role: 'standby',
  primary: 'n1',
  history: [
    [1, 1],
    [3, 41],
  ],
};

describe('recordAfterLog: the log catches the epoch record up', () => {
  it('nothing lacking: null', () => {
    expect(recordAfterLog(standbyOfN1, [[3, 41]], { epoch: 3, primary: 'n1' }, 'n2')).toBeNull();
    expect(recordAfterLog(standbyOfN1, [], 'off', 'n2')).toBeNull();
  });

  it('an epoch this node opened (the arbiter names it in exactly that epoch): primary of it, from its first record', () => {
    const r = recordAfterLog(standbyOfN1, [[4, 90]], { epoch: 4, primary: 'n2', firstSeq: 90 }, 'n2');
    expect(r).toEqual({
      epoch: 4,
      role: 'primary',
      primary: 'n2',
      history: [
        [1, 1],
        [3, 41],
        [4, 90],
      ],
    });
  });

  it('an epoch someone else opened, or one the arbiter no longer shows: syncing, vouching for nothing', () => {
    const expected = {
      epoch: 4,
      role: 'syncing',
      primary: '',
      history: [
        [1, 1],
        [3, 41],
        [4, 90],
      ],
    };
    expect(recordAfterLog(standbyOfN1, [[4, 90]], { epoch: 4, primary: 'n1' }, 'n2')).toEqual(expected);
    expect(recordAfterLog(standbyOfN1, [[4, 90]], { epoch: 5, primary: 'n2' }, 'n2')).toEqual(expected);
    expect(recordAfterLog(standbyOfN1, [[4, 90]], 'off', 'n2')).toEqual(expected);
  });

  it('an epoch the record reached but whose start its history lacks: only the history changes', () => {
    const adopted: EpochRecord = { ...standbyOfN1, epoch: 4, primary: 'n3' };
    expect(recordAfterLog(adopted, [[4, 90]], 'off', 'n2')).toEqual({
      ...adopted,
      history: [
        [1, 1],
        [3, 41],
        [4, 90],
      ],
    });
  });

  it('drops a history entry for an epoch opened with no records that a later start replaces', () => {
    const opened: EpochRecord = {
      epoch: 3,
      role: 'primary',
      primary: 'n2',
      history: [
        [1, 1],
        [3, 95],
      ],
    };
    // Epoch 3 was opened at seq 95 and nothing of it was written; epoch 5 then began there.
    expect(recordAfterLog(opened, [[5, 95]], { epoch: 5, primary: 'n2' }, 'n2')).toEqual({
      epoch: 5,
      role: 'primary',
      primary: 'n2',
      history: [
        [1, 1],
        [5, 95],
      ],
    });
  });

  it('the election then sees the epoch: the node that served in it beats a longer log of the older epoch', () => {
    // n2 took over at seq 91 in epoch 4 and acked 91..95; its record save was lost in a crash.
    // n1, the old primary, holds 91..100 of epoch 3 that nobody acked.
    const n2 = { nodeId: 'n2', record: recordAfterLog(standbyOfN1, [[4, 91]], { epoch: 4, primary: 'n2' }, 'n2')!, lastSeq: 95 };
    const n1 = {
      nodeId: 'n1',
      record: {
        epoch: 3,
        role: 'primary',
        primary: 'n1',
        history: [
          [1, 1],
          [3, 41],
        ],
      } as EpochRecord,
      lastSeq: 100,
    };
    const stale = { nodeId: 'n2', record: standbyOfN1, lastSeq: 95 };
    expect(choosePrimary(n1, stale, { epoch: 4, primary: 'n2' }).primary).toBe('n1');
    const e = choosePrimary(n1, n2, { epoch: 4, primary: 'n2' });
    expect(e.primary).toBe('n2');
    expect(e.refusal).toBeNull();
  });
});
