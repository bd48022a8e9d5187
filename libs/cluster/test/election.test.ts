import { describe, expect, it } from 'vitest';
import { agreedPrefix, choosePrimary, noteEpoch, type Candidate } from '../src/index';

const cand = (nodeId: string, epoch: number, primary: string, lastSeq: number, role = 'primary'): Candidate => ({ nodeId, record: { epoch, role, primary, history: [] }, lastSeq });

describe('choosing the primary when both nodes start', () => {
  it('the node that was primary in the highest epoch wins, even with the shorter log', () => {
    expect(choosePrimary(cand('n1', 5, 'n1', 900), cand('n2', 6, 'n2', 800, 'solo')).primary).toBe('n2');
    expect(choosePrimary(cand('n2', 6, 'n2', 800, 'solo'), cand('n1', 5, 'n1', 900)).primary).toBe('n2');
  });

  it('a standby that knows the higher epoch names the other node as its primary', () => {
    // n2 was standby in epoch 7 under n1; n1 crashed before writing anything else.
    expect(choosePrimary(cand('n1', 7, 'n1', 100), cand('n2', 7, 'n1', 99, 'standby')).primary).toBe('n1');
  });

  it('the arbiter, naming a node in an epoch newer than both records, decides', () => {
    expect(choosePrimary(cand('n1', 2, 'n1', 50), cand('n2', 0, '', 0), { epoch: 3, primary: 'n2' }).primary).toBe('n2');
    expect(choosePrimary(cand('n1', 4, 'n1', 50), cand('n2', 0, '', 0), { epoch: 3, primary: 'n2' }).primary).toBe('n1');
  });

  it('with no history the longer log wins, then the lower id', () => {
    expect(choosePrimary(cand('n1', 0, '', 3), cand('n2', 0, '', 9)).primary).toBe('n2');
    expect(choosePrimary(cand('n2', 0, '', 0), cand('n1', 0, '', 0))).toEqual({ primary: 'n1', reason: expect.stringMatching(/lower node id/) });
  });
});

describe('agreed prefix on rejoin', () => {
  it('a joiner that is a prefix of the primary agrees up to its own end', () => {
    expect(agreedPrefix({ history: [[1, 1], [3, 50]], lastSeq: 80 }, { history: [[1, 1], [3, 50]], lastSeq: 60 })).toBe(60);
  });

  it('an old primary with an unconfirmed suffix agrees only up to where the new epoch began', () => {
    // Epoch 5 ended at 100 on the new primary (which opened epoch 6 at 101); the old one wrote to 103.
    expect(agreedPrefix({ history: [[5, 1], [6, 101]], lastSeq: 150 }, { history: [[5, 1]], lastSeq: 103 })).toBe(100);
  });

  it('nothing in common agrees on nothing', () => {
    expect(agreedPrefix({ history: [[2, 1]], lastSeq: 10 }, { history: [[1, 1]], lastSeq: 10 })).toBe(0);
  });

  it('noteEpoch records where a new epoch begins and ignores old ones', () => {
    expect(noteEpoch([[1, 1]], 3, 40)).toEqual([[1, 1], [3, 40]]);
    expect(noteEpoch([[1, 1], [3, 40]], 3, 41)).toEqual([[1, 1], [3, 40]]);
  });
});
