import { describe, expect, it } from 'vitest';
import { agreedPrefix, choosePrimary, lastLogEpoch, loneVerdict, newestEpoch, noteEpoch, type Candidate } from '../src/index';

type Facts = { epoch?: number; role?: string; primary?: string; history?: [number, number][]; lastSeq?: number };
/** A node's facts; the defaults are an empty data dir. */
const node = (nodeId: string, f: Facts = {}): Candidate => ({
  nodeId,
  record: { epoch: f.epoch ?? 0, role: f.role ?? (f.epoch ? 'primary' : 'none'), primary: f.primary ?? (f.epoch ? nodeId : ''), history: f.history ?? [] },
  lastSeq: f.lastSeq ?? 0,
});
const both = (a: Candidate, b: Candidate, arbiter: Parameters<typeof choosePrimary>[2]) => {
  // Both nodes apply the rule to the same facts, each with itself first: they must agree.
  const x = choosePrimary(a, b, arbiter);
  const y = choosePrimary(b, a, arbiter);
  expect({ primary: y.primary, refusal: y.refusal }).toEqual({ primary: x.primary, refusal: x.refusal });
  return x;
};

describe('choosing the primary when both nodes start: the log decides, not a name', () => {
  it('a log whose last record is of a higher epoch wins, even when it is shorter', () => {
    const n1 = node('n1', { epoch: 5, history: [[5, 1]], lastSeq: 900 });
    const n2 = node('n2', {
      epoch: 6,
      history: [
        [5, 1],
        [6, 801],
      ],
      lastSeq: 850,
    });
    expect(both(n1, n2, null)).toMatchObject({ primary: 'n2', refusal: null, reason: expect.stringMatching(/more up-to-date log/) });
  });

  it('an epoch opened with no record in it does not count: the longer log wins over the newer primary', () => {
    // n2 opened epoch 6 at seq 801 and wrote nothing in it; n1 holds 801..900 of epoch 5.
    const n1 = node('n1', { epoch: 5, history: [[5, 1]], lastSeq: 900 });
    const n2 = node('n2', {
      epoch: 6,
      history: [
        [5, 1],
        [6, 801],
      ],
      lastSeq: 800,
    });
    expect(lastLogEpoch(n2)).toBe(5);
    // n2 holds all of epoch 6 (nothing), so n1's longer log may serve.
    expect(both(n1, n2, { epoch: 6, primary: 'n2', firstSeq: 801 })).toMatchObject({ primary: 'n1', refusal: null });
  });

  it('an empty data dir the arbiter still names never leads over the peer with the history', () => {
    // n1 was primary of epoch 7 with n2 its caught-up standby; n1's disk was replaced.
    const n1 = node('n1');
    const n2 = node('n2', { epoch: 7, role: 'standby', primary: 'n1', history: [[7, 1]], lastSeq: 500 });
    expect(both(n1, n2, { epoch: 7, primary: 'n1', firstSeq: 1 })).toMatchObject({ primary: 'n2', refusal: null });
  });

  it('nobody covers the newest epoch: the pair refuses, naming the epoch and the records that exist nowhere', () => {
    // n1 went solo in epoch 8 from seq 1201 after n2 (standby of 7) left; then n1's disk was replaced.
    const n1 = node('n1');
    const n2 = node('n2', { epoch: 7, role: 'standby', primary: 'n1', history: [[7, 1]], lastSeq: 1200 });
    const e = both(n1, n2, { epoch: 8, primary: 'n1', firstSeq: 1201 });
    expect(e.primary).toBe('n2');
    expect(e.refusal).toEqual({
      missing: [{ epoch: 8, primary: 'n1', fromSeq: 1201 }],
      force: 'n2',
      reason:
        'epoch 8 (primary n1, records from seq 1201 on) is in no surviving log; it may hold acknowledged updates; pass --force-primary to n2 to go on without them',
    });
  });

  it('records of an older epoch where the lost one began count as missing too', () => {
    // n2 holds 1201..1250 of epoch 7, never confirmed; epoch 8 began at 1201 on the lost n1.
    const n2 = node('n2', { epoch: 7, role: 'standby', primary: 'n1', history: [[7, 1]], lastSeq: 1250 });
    expect(both(node('n1'), n2, { epoch: 8, primary: 'n1', firstSeq: 1201 }).refusal?.missing).toEqual([{ epoch: 8, primary: 'n1', fromSeq: 1201 }]);
  });

  it('when epochs the winner never heard of came between, everything of its own last epoch counts as missing', () => {
    // n1 knows only epoch 1 (from seq 1); the lost n2 went through epoch 2 (which may have begun anywhere) to 3 (from seq 21).
    const n1 = node('n1', { epoch: 1, history: [[1, 1]], lastSeq: 14 });
    expect(both(n1, node('n2'), { epoch: 3, primary: 'n2', firstSeq: 21 }).refusal?.missing).toEqual([{ epoch: 3, primary: 'n2', fromSeq: 1 }]);
  });

  it('a standby that was still syncing does not cover its epoch', () => {
    const n1 = node('n1');
    const n2 = node('n2', {
      epoch: 7,
      role: 'syncing',
      primary: 'n1',
      history: [
        [6, 1],
        [7, 850],
      ],
      lastSeq: 900,
    });
    expect(both(n1, n2, { epoch: 7, primary: 'n1', firstSeq: 850 }).refusal).toMatchObject({
      missing: [{ epoch: 7, primary: 'n1', fromSeq: 901 }],
      reason: expect.stringContaining('epoch 7 (primary n1, begun at seq 850, records from seq 901 on)'),
    });
    // The same node caught up (role standby) holds every update of the epoch.
    const caughtUp = node('n2', {
      epoch: 7,
      role: 'standby',
      primary: 'n1',
      history: [
        [6, 1],
        [7, 850],
      ],
      lastSeq: 900,
    });
    expect(both(n1, caughtUp, { epoch: 7, primary: 'n1', firstSeq: 850 }).refusal).toBeNull();
  });

  it('a log replaced while the epoch record survived does not cover the epoch its record names', () => {
    const n1 = node('n1', {
      epoch: 8,
      history: [
        [7, 1],
        [8, 1201],
      ],
      lastSeq: 0,
    });
    const n2 = node('n2', { epoch: 7, role: 'standby', primary: 'n1', history: [[7, 1]], lastSeq: 1200 });
    expect(both(n1, n2, { epoch: 8, primary: 'n1', firstSeq: 1201 })).toMatchObject({
      primary: 'n2',
      refusal: { missing: [{ epoch: 8, primary: 'n1', fromSeq: 1201 }] },
    });
  });

  it('the other node holding records of the newest epoch lets the more up-to-date log serve', () => {
    // Neither record vouches for epoch 9 (both only followed it), but both logs hold some of it:
    // every record of epoch 9 came from its primary, one of the two, so the longer one has them all.
    const n1 = node('n1', { epoch: 9, role: 'syncing', primary: 'n2', history: [[9, 10]], lastSeq: 40 });
    const n2 = node('n2', { epoch: 9, role: 'syncing', primary: 'n2', history: [[9, 10]], lastSeq: 30 });
    expect(both(n1, n2, { epoch: 9, primary: 'n2' })).toMatchObject({ primary: 'n1', refusal: null });
    expect(
      both(n1, node('n2', { epoch: 9, role: 'syncing', primary: 'n2', history: [[8, 1]], lastSeq: 9 }), { epoch: 9, primary: 'n2' }).refusal,
    ).not.toBeNull();
  });

  it('without an arbiter, a standby whose primary comes back empty refuses: that primary may have gone on alone', () => {
    const n1 = node('n1');
    const n2 = node('n2', { epoch: 7, role: 'standby', primary: 'n1', history: [[7, 1]], lastSeq: 500 });
    expect(both(n1, n2, 'off').refusal).toMatchObject({
      missing: [{ epoch: 8, primary: 'n1', fromSeq: 501 }],
      force: 'n2',
      reason: expect.stringMatching(/no arbiter/),
    });
    // The arbiter's record shows it did not: epoch 7 is the newest, and n2 holds all of it.
    expect(both(n1, n2, { epoch: 7, primary: 'n1' }).refusal).toBeNull();
  });

  it('without an arbiter, the last primary over a wiped standby serves', () => {
    expect(both(node('n1', { epoch: 7, history: [[7, 1]], lastSeq: 500 }), node('n2'), 'off')).toMatchObject({ primary: 'n1', refusal: null });
  });

  it('an arbiter epoch whose named node never persisted it does not count (it won the CAS and stopped before serving)', () => {
    const n1 = node('n1', { epoch: 6, history: [[6, 1]], lastSeq: 100 });
    const n2 = node('n2', { epoch: 6, role: 'standby', primary: 'n1', history: [[6, 1]], lastSeq: 100 });
    expect(newestEpoch([n1, n2], { epoch: 7, primary: 'n2', firstSeq: 101 })).toEqual({ epoch: 6, primary: 'n1', firstSeq: 1 });
    expect(both(n1, n2, { epoch: 7, primary: 'n2', firstSeq: 101 })).toMatchObject({ primary: 'n2', refusal: null });
  });

  it('... but only on word the named node sent after it knew of that epoch: an older heartbeat may hide an epoch it served since', () => {
    // n2's heartbeat from its days as n1's standby, delivered late: it says nothing about epoch 7.
    const stale = { ...node('n2', { epoch: 6, role: 'standby', primary: 'n1', history: [[6, 1]], lastSeq: 100 }), arbiterSeen: 6 };
    const n1 = node('n1', { epoch: 6, history: [[6, 1]], lastSeq: 120 });
    const arbiter = { epoch: 7, primary: 'n2', firstSeq: 101 };
    expect(newestEpoch([n1, stale], arbiter)).toEqual({ epoch: 7, primary: 'n2', firstSeq: 101 });
    expect(choosePrimary(n1, stale, arbiter).refusal).toMatchObject({ missing: [{ epoch: 7, primary: 'n2', fromSeq: 101 }] });
    // Once it has read the arbiter (epoch 7 names it) and still holds a record of 6, it never served 7.
    expect(choosePrimary(n1, { ...stale, arbiterSeen: 7 }, arbiter)).toMatchObject({ primary: 'n1', refusal: null });
  });

  it('a new pair whose first primary won the CAS and stopped before persisting it serves; a replaced disk does not', () => {
    // Both records are the empty ones written at first start (kept: not fresh) ...
    const kept = (id: string): Candidate => ({ ...node(id), record: { ...node(id).record, since: 0 } });
    expect(both(kept('n1'), kept('n2'), { epoch: 1, primary: 'n1', firstSeq: 1 })).toMatchObject({ primary: 'n1', refusal: null });
    expect(loneVerdict(kept('n1'), 'n2', { epoch: 1, primary: 'n1', firstSeq: 1 })).toMatchObject({ serve: true });
    // ... while a record begun empty when the arbiter already held epoch 1 (a replaced data dir) may hide it.
    const replaced: Candidate = { ...node('n1'), record: { ...node('n1').record, since: 1 } };
    expect(both(replaced, kept('n2'), { epoch: 1, primary: 'n1', firstSeq: 1 }).refusal).toMatchObject({ missing: [{ epoch: 1, primary: 'n1', fromSeq: 1 }] });
    expect(loneVerdict(replaced, 'n2', { epoch: 1, primary: 'n1', firstSeq: 1 })).toMatchObject({ serve: false });
    expect(loneVerdict(node('n1'), 'n2', { epoch: 1, primary: 'n1', firstSeq: 1 })).toMatchObject({ serve: false });
  });
});

describe('tie-breakers between equal logs', () => {
  it('a node with history over a new member, then the node the arbiter names', () => {
    expect(both(node('n1'), node('n2', { epoch: 1, history: [[1, 1]] }), null)).toMatchObject({ primary: 'n2', reason: expect.stringMatching(/new member/) });
    const a = node('n1', { epoch: 3, role: 'standby', primary: 'n2', history: [[3, 1]], lastSeq: 10 });
    const b = node('n2', { epoch: 3, history: [[3, 1]], lastSeq: 10 });
    expect(both(a, b, { epoch: 3, primary: 'n1' })).toMatchObject({ primary: 'n1', reason: expect.stringMatching(/arbiter names n1/) });
  });

  it('then the node that was primary in the highest epoch either record knows', () => {
    const a = node('n1', { epoch: 3, role: 'standby', primary: 'n2', history: [[3, 1]], lastSeq: 10 });
    const b = node('n2', { epoch: 3, history: [[3, 1]], lastSeq: 10 });
    expect(both(a, b, 'off')).toMatchObject({ primary: 'n2', reason: expect.stringMatching(/n2 was primary in epoch 3/) });
  });

  it('then the lower node id', () => {
    expect(both(node('n2'), node('n1'), null)).toMatchObject({ primary: 'n1', refusal: null, reason: expect.stringMatching(/lower node id/) });
  });
});

describe('a node alone (its peer silent)', () => {
  const primaryOf8 = node('n1', {
    epoch: 8,
    history: [
      [7, 1],
      [8, 1201],
    ],
    lastSeq: 1300,
  });

  it('serves when the arbiter names it in its own latest epoch and its log holds that epoch', () => {
    expect(loneVerdict(primaryOf8, 'n2', { epoch: 8, primary: 'n1', firstSeq: 1201 })).toMatchObject({
      serve: true,
      reason: expect.stringMatching(/arbiter confirms/),
    });
  });

  it('waits when its log was replaced while the epoch record survived', () => {
    const lost = node('n1', {
      epoch: 8,
      history: [
        [7, 1],
        [8, 1201],
      ],
      lastSeq: 0,
    });
    expect(loneVerdict(lost, 'n2', { epoch: 8, primary: 'n1', firstSeq: 1201 })).toEqual({
      serve: false,
      missing: [{ epoch: 8, primary: 'n1', fromSeq: 1 }],
      reason: expect.stringMatching(/log does not reach that epoch.*epoch 8 \(primary n1, begun at seq 1201, records from seq 1 on\).*--force-primary to n1/),
    });
  });

  it('waits when its data dir was replaced, though the arbiter names it', () => {
    expect(loneVerdict(node('n1'), 'n2', { epoch: 8, primary: 'n1', firstSeq: 1201 })).toMatchObject({
      serve: false,
      reason: expect.stringMatching(/holds nothing/),
      missing: [{ epoch: 8, primary: 'n1', fromSeq: 1 }],
    });
  });

  it('waits when the arbiter names the peer, saying what it lacks, or that forcing it loses nothing', () => {
    const behind = node('n2', { epoch: 7, role: 'standby', primary: 'n1', history: [[7, 1]], lastSeq: 1200 });
    expect(loneVerdict(behind, 'n1', { epoch: 8, primary: 'n1', firstSeq: 1201 })).toMatchObject({
      serve: false,
      missing: [{ epoch: 8, primary: 'n1', fromSeq: 1201 }],
    });
    expect(loneVerdict(behind, 'n1', { epoch: 7, primary: 'n1', firstSeq: 1 })).toMatchObject({
      serve: false,
      missing: [],
      reason: expect.stringMatching(/loses nothing/),
    });
  });

  it('waits without an arbiter, or when the arbiter has nothing on record', () => {
    expect(loneVerdict(primaryOf8, 'n2', 'off')).toMatchObject({ serve: false, reason: expect.stringMatching(/no arbiter/) });
    expect(loneVerdict(primaryOf8, 'n2', null)).toMatchObject({ serve: false, reason: expect.stringMatching(/no primary on record/) });
  });
});

describe('agreed prefix on rejoin', () => {
  it('a joiner that is a prefix of the primary agrees up to its own end', () => {
    expect(
      agreedPrefix(
        {
          history: [
            [1, 1],
            [3, 50],
          ],
          lastSeq: 80,
        },
        {
          history: [
            [1, 1],
            [3, 50],
          ],
          lastSeq: 60,
        },
      ),
    ).toBe(60);
  });

  it('an old primary with an unconfirmed suffix agrees only up to where the new epoch began', () => {
    // Epoch 5 ended at 100 on the new primary (which opened epoch 6 at 101); the old one wrote to 103.
    expect(
      agreedPrefix(
        {
          history: [
            [5, 1],
            [6, 101],
          ],
          lastSeq: 150,
        },
        { history: [[5, 1]], lastSeq: 103 },
      ),
    ).toBe(100);
  });

  it('nothing in common agrees on nothing', () => {
    expect(agreedPrefix({ history: [[2, 1]], lastSeq: 10 }, { history: [[1, 1]], lastSeq: 10 })).toBe(0);
  });

  it('noteEpoch records where a new epoch begins and ignores old ones', () => {
    expect(noteEpoch([[1, 1]], 3, 40)).toEqual([
      [1, 1],
      [3, 40],
    ]);
    expect(
      noteEpoch(
        [
          [1, 1],
          [3, 40],
        ],
        3,
        41,
      ),
    ).toEqual([
      [1, 1],
      [3, 40],
    ]);
  });
});
