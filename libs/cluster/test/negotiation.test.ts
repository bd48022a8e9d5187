/**
 * Negotiation on a hand-moved clock with the real election rules: a serving peer makes
 * this node standby, two waiting nodes elect by log, a refusal waits (logged once) unless
 * the operator forces, and alone past the peer timeout only the arbiter or a force lets
 * the node serve.
 */
import { describe, expect, it } from 'vitest';
import type { RoleEvent, RoleState } from '@txtest/actors';
import type { NodeSummary } from '@txtest/protocol';
import type { Arbiter, ArbiterRead, ArbiterValue, CasResult } from '../src/epochs/arbiter';
import { choosePrimary, type Candidate } from '../src/epochs/election';
import type { EpochRecord } from '../src/epochs/epoch-store';
import type { ElectionNotes } from '../src/epochs/promotion';
import { Negotiation } from '../src/pair/negotiation';
import { lineLogger, ManualClock } from './helpers/manual-clock';

/** The arbiter's key in memory, with its compare-and-set (reads resolve at once). */
class MemoryArbiter implements Arbiter {
  reads = 0;
  constructor(
    private value: ArbiterValue | null,
    private revision = value === null ? 0 : 1,
  ) {}
  async read(): Promise<ArbiterRead> {
    this.reads++;
    return { value: this.value, revision: this.revision };
  }
  async compareAndSet(revision: number, value: ArbiterValue): Promise<CasResult> {
    if (revision !== this.revision) return { ok: false, current: { value: this.value, revision: this.revision } };
    this.value = value;
    return { ok: true, revision: ++this.revision };
  }
  async close(): Promise<void> {}
}

const PEER_TIMEOUT = 200;

function harness(opts: { record?: EpochRecord; lastSeq?: number; arbiter?: Arbiter | null; forcePrimary?: boolean } = {}) {
  const clock = new ManualClock();
  const lines: string[] = [];
  const events: RoleEvent[] = [];
  const hellos: number[] = [];
  const notes: ElectionNotes = {
    arbiterRead: null,
    get arbiterView() {
      return this.arbiterRead?.value ?? null;
    },
    electedOver: null,
    forcing: false,
  };
  let lastPeerAt = Number.NEGATIVE_INFINITY;
  const record = opts.record ?? { epoch: 3, role: 'standby', primary: 'n2', history: [[1, 1]] };
  const me: Candidate = { nodeId: 'n1', record, lastSeq: opts.lastSeq ?? 10 };
  const n = new Negotiation({
    nodeId: 'n1',
    peerId: 'n2',
    clock,
    log: lineLogger(lines),
    arbiter: opts.arbiter ?? null,
    forcePrimary: opts.forcePrimary ?? false,
    notes,
    peerTimeoutMs: PEER_TIMEOUT,
    elect: choosePrimary,
    candidate: () => me,
    lastPeerAt: () => lastPeerAt,
    role: (): RoleState => 'negotiating',
    send: (e) => void events.push(e),
    sendToPeer: () => void hellos.push(clock.now()),
  });
  return { clock, lines, events, hellos, notes, n, heard: () => (lastPeerAt = clock.now()) };
}

const summary = (over: Partial<NodeSummary>): NodeSummary => ({
  from: 'n2',
  epoch: 3,
  role: 'negotiating',
  primary: 'n2',
  recordRole: 'primary',
  lastSeq: 10,
  ackSeq: 10,
  history: [[1, 1]],
  ...over,
});

/** Lets the arbiter's read (a resolved promise) and what follows it run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('negotiation with the peer heard', () => {
  it('a serving peer makes this node standby', () => {
    const h = harness();
    h.n.decide(summary({ role: 'solo' }));
    expect(h.events).toEqual([{ type: 'DECIDED_STANDBY', reason: 'peer n2 is solo in epoch 3' }]);
  });

  it('a peer still starting, recovering or stopping decides nothing', () => {
    const h = harness();
    for (const role of ['starting', 'recovering', 'stopping']) h.n.decide(summary({ role }));
    expect(h.events).toEqual([]);
  });

  it('two waiting nodes elect by log: the longer log of the last epoch serves, and notes the arbiter value it weighed', () => {
    const h = harness({ lastSeq: 12, record: { epoch: 3, role: 'standby', primary: 'n2', history: [[1, 1]] } });
    h.notes.arbiterRead = { value: { epoch: 3, primary: 'n2' }, revision: 1 };
    h.n.decide(summary({ lastSeq: 10, epoch: 3 }));
    expect(h.events).toHaveLength(1);
    const e = h.events[0]!;
    expect(e.type).toBe('DECIDED_PRIMARY');
    expect(h.notes.electedOver).toEqual({ epoch: 3, primary: 'n2' });
  });

  it('a node that loses the election becomes standby and notes nothing', () => {
    const h = harness({ lastSeq: 8 });
    h.n.decide(summary({ lastSeq: 10 }));
    expect(h.events.map((e) => e.type)).toEqual(['DECIDED_STANDBY']);
    expect(h.notes.electedOver).toBeNull();
  });
});

describe('negotiation alone', () => {
  it('hellos go out every call; before the peer timeout nothing is judged', () => {
    const h = harness();
    h.n.since = 0;
    h.n.sendHello();
    h.clock.advance(PEER_TIMEOUT - 1);
    h.n.sendHello();
    expect(h.hellos).toEqual([0, PEER_TIMEOUT - 1]);
    expect(h.events).toEqual([]);
    expect(h.n.waiting).toBeNull();
  });

  it('without an arbiter, a node alone waits, says why in status, and logs it once', () => {
    const h = harness();
    h.clock.advance(PEER_TIMEOUT);
    h.n.sendHello();
    h.n.sendHello();
    expect(h.events).toEqual([]);
    expect(h.n.waiting?.reason).toBe('waiting for peer n2: no arbiter: start n2, or pass --force-primary to n1');
    expect(h.lines.filter((l) => l.startsWith('warn waiting for peer'))).toHaveLength(1);
  });

  it('a peer heard within the timeout keeps a lone node from judging', () => {
    const h = harness({ forcePrimary: true });
    h.clock.advance(PEER_TIMEOUT);
    h.heard();
    h.clock.advance(PEER_TIMEOUT - 1);
    h.n.sendHello();
    expect(h.events).toEqual([]);
  });

  it('the operator may force a lone node to serve (once noted for the promotion)', () => {
    const h = harness({ forcePrimary: true });
    h.clock.advance(PEER_TIMEOUT);
    h.n.sendHello();
    expect(h.events).toEqual([{ type: 'DECIDED_PRIMARY', reason: 'forced by the operator (--force-primary)' }]);
    expect(h.notes.forcing).toBe(true);
  });

  it('the arbiter naming this node, with its log holding the epoch, lets it serve alone; reads are spaced by the peer timeout', async () => {
    const arbiter = new MemoryArbiter({ epoch: 3, primary: 'n1', firstSeq: 1 });
    const h = harness({ arbiter, record: { epoch: 3, role: 'primary', primary: 'n1', history: [[3, 1]] } });
    h.clock.advance(PEER_TIMEOUT);
    h.n.sendHello();
    h.n.sendHello();
    await settle();
    expect(arbiter.reads).toBe(1);
    expect(h.notes.arbiterView).toEqual({ epoch: 3, primary: 'n1', firstSeq: 1 });
    expect(h.events.map((e) => e.type)).toEqual(['DECIDED_PRIMARY']);
  });

  it('the arbiter naming the peer keeps this node waiting', async () => {
    const h = harness({ arbiter: new MemoryArbiter({ epoch: 4, primary: 'n2', firstSeq: 11 }) });
    h.clock.advance(PEER_TIMEOUT);
    h.n.sendHello();
    await settle();
    expect(h.events).toEqual([]);
    expect(h.n.waiting?.reason).toMatch(/^waiting for peer n2: the arbiter names n2 primary of epoch 4/);
  });

  it('a refusal by the pair waits (logged once) unless forced; forced, the node serves over it', () => {
    // n1 went solo in epoch 8 from seq 1201 after n2 (standby of 7) left; then n1's disk was replaced.
    const arbiterView: ArbiterValue = { epoch: 8, primary: 'n1', firstSeq: 1201 };
    const empty: EpochRecord = { epoch: 0, role: 'none', primary: '', history: [] };
    const peer = summary({ epoch: 7, role: 'negotiating', recordRole: 'standby', primary: 'n1', history: [[7, 1]], lastSeq: 1200 });
    const waits = harness({ record: empty, lastSeq: 0, arbiter: new MemoryArbiter(arbiterView) });
    waits.notes.arbiterRead = { value: arbiterView, revision: 1 };
    waits.n.decide(peer);
    waits.n.decide(peer);
    expect(waits.events).toEqual([]);
    expect(waits.n.waiting).toMatchObject({
      reason: expect.stringMatching(/^neither node serves: epoch 8 /),
      force: 'n2',
      missing: [{ epoch: 8, primary: 'n1', fromSeq: 1201 }],
    });
    expect(waits.lines.filter((l) => l.startsWith('warn neither node serves'))).toHaveLength(1);
    const forced = harness({ record: empty, lastSeq: 0, arbiter: new MemoryArbiter(arbiterView), forcePrimary: true });
    forced.notes.arbiterRead = { value: arbiterView, revision: 1 };
    forced.n.decide(peer);
    expect(forced.events).toEqual([{ type: 'DECIDED_PRIMARY', reason: 'forced by the operator (--force-primary) over the refusal' }]);
    expect(forced.notes.forcing).toBe(true);
  });
});
