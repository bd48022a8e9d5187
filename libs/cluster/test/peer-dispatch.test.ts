/**
 * The dispatch of peer messages with a real link, follower and replicator on an
 * in-memory bus: liveness for the role machine, the peer's summary, the epoch verdict
 * acted on, and the handler of each kind.
 */
import { describe, expect, it } from 'vitest';
import type { RoleEvent, RoleState } from '@txtest/actors';
import { MemoryLogStorage } from '@txtest/journal';
import { NodeKind, subjects, type NodeMessage, type NodeSummary } from '@txtest/protocol';
import { Follower } from '../src/pair/follower';
import { PeerDispatch } from '../src/pair/peer-dispatch';
import { PeerLink } from '../src/pair/peer-link';
import { Replicator } from '../src/pair/replicator';
import { lineLogger, ManualClock } from './helpers/manual-clock';
import { MemoryBus } from './helpers/memory-bus';

const SUBJECTS = subjects('t', 'pair');
const INTERVAL = 40;

function harness(role: RoleState, epoch = 5, lastSeq = 10) {
  const clock = new ManualClock();
  const bus = new MemoryBus();
  const log = lineLogger([]);
  const storage = new MemoryLogStorage();
  const events: RoleEvent[] = [];
  const calls: string[] = [];
  const state = { role, epoch, lastSeq, failed: false };
  const link = new PeerLink({
    transport: bus,
    subjects: SUBJECTS,
    nodeId: 'n1',
    peerId: 'n2',
    clock,
    log,
    auth: null,
    onMessage: (m) => dispatch.onMessage(m),
    onError: () => undefined,
  });
  const replicator = new Replicator({
    link,
    nodeId: 'n1',
    epoch: () => state.epoch,
    lastSeq: () => state.lastSeq,
    committedSeq: () => state.lastSeq,
    localMark: () => state.lastSeq,
    localMarkIsWrite: true,
    history: () => [[1, 1]],
    storage,
    incarnation: 'i',
    writeSnapshot: async () => undefined,
    retryMs: 200,
    onAck: () => undefined,
    onLive: () => undefined,
    onError: () => undefined,
    log,
  });
  const follower = new Follower({
    link,
    nodeId: 'n1',
    epoch: () => state.epoch,
    ack: 'received',
    apply: () => undefined,
    lastSeq: () => state.lastSeq,
    later: (fn) => void clock.setTimeout(fn, 0),
    storage,
    rollBack: async () => state.lastSeq,
    installSnapshot: async () => undefined,
    onCaughtUp: () => undefined,
    rejoin: () => undefined,
    fail: () => undefined,
    resendRetryMs: 80,
    publishReply: () => undefined,
    isStandby: () => true,
    repliesWaitFor: 'written',
    log,
  });
  const dispatch: PeerDispatch = new PeerDispatch({
    nodeId: 'n1',
    clock,
    heartbeatIntervalMs: INTERVAL,
    fences: true,
    follower,
    replicator,
    role: () => state.role,
    epoch: () => state.epoch,
    lastSeq: () => state.lastSeq,
    failed: () => state.failed,
    send: (e) => void events.push(e),
    tellStale: () => void calls.push('tell-stale'),
    adopt: (e, p) => void calls.push(`adopt ${e} ${p}`),
    decide: (peer) => void calls.push(`decide ${peer.from} ${peer.role}`),
    fail: (err) => void calls.push(`fail ${err.message}`),
  });
  link.start();
  /** Hands `m` to the dispatch as the link would (decoded, from the configured peer). */
  const deliver = (m: NodeMessage) => dispatch.onMessage(m);
  return { clock, bus, events, calls, state, dispatch, deliver, types: () => events.map((e) => e.type) };
}

const summary = (role: string, epoch: number, over: Partial<NodeSummary> = {}): NodeSummary => ({
  from: 'n2',
  epoch,
  role,
  primary: 'n2',
  recordRole: role,
  lastSeq: 10,
  ackSeq: 10,
  history: [[1, 1]],
  ...over,
});
const beat = (role: string, epoch: number, over: Partial<NodeSummary> = {}): NodeMessage => ({
  kind: NodeKind.HEARTBEAT,
  header: summary(role, epoch, over),
  payload: new Uint8Array(0),
});
const hello = (role: string, epoch: number): NodeMessage => ({ kind: NodeKind.HELLO, header: summary(role, epoch), payload: new Uint8Array(0) });
const handover = (epoch: number, lastSeq: number): NodeMessage => ({
  kind: NodeKind.HANDOVER,
  header: { from: 'n2', epoch, lastSeq },
  payload: new Uint8Array(0),
});

describe('peer dispatch: liveness and the peer summary', () => {
  it('tells the machine the peer is alive at most once per quarter interval', () => {
    const h = harness('primary');
    h.deliver(beat('standby', 5));
    h.deliver(beat('standby', 5));
    h.clock.advance(INTERVAL / 4);
    h.deliver(beat('standby', 5));
    expect(h.types()).toEqual(['PEER_ALIVE', 'PEER_ALIVE']);
    expect(h.dispatch.lastPeerAt).toBe(INTERVAL / 4);
  });

  it('a follower counts only its primary of this epoch or a newer one as alive', () => {
    const h = harness('standby');
    h.deliver(beat('syncing', 5));
    h.deliver(beat('primary', 4));
    expect(h.types()).toEqual([]);
    h.deliver(beat('primary', 5));
    expect(h.types()).toEqual(['PEER_ALIVE']);
  });

  it("keeps the peer's summary from its hello, heartbeat or join", () => {
    const h = harness('negotiating');
    h.deliver(hello('negotiating', 3));
    expect(h.dispatch.peer).toMatchObject({ from: 'n2', role: 'negotiating', epoch: 3 });
  });
});

describe('peer dispatch: the epoch verdict acted on', () => {
  it('a serving node is fenced by a newer primary and handles nothing more of that message', () => {
    const h = harness('solo');
    h.deliver(beat('primary', 6));
    expect(h.events.at(-1)).toEqual({ type: 'HIGHER_EPOCH', epoch: 6, from: 'n2' });
    expect(h.calls).toEqual([]);
  });

  it('a negotiating node follows a newer primary without deciding', () => {
    const h = harness('negotiating');
    h.deliver(beat('primary', 6));
    expect(h.events.at(-1)).toEqual({ type: 'DECIDED_STANDBY', reason: 'peer n2 is primary in epoch 6' });
    expect(h.calls).toEqual([]);
  });

  it('a syncing node adopts a newer primary, then handles its message', () => {
    const h = harness('syncing');
    h.deliver(beat('primary', 6));
    expect(h.calls).toEqual(['adopt 6 n2']);
  });

  it('a stale primary is told the epoch and otherwise ignored', () => {
    const h = harness('standby');
    h.deliver(handover(4, 10));
    h.deliver(beat('primary', 4));
    expect(h.calls).toEqual(['tell-stale']);
    expect(h.types()).toEqual([]);
  });
});

describe('peer dispatch: by kind', () => {
  it('a hello or heartbeat while negotiating goes to the election', () => {
    const h = harness('negotiating');
    h.deliver(hello('negotiating', 5));
    h.deliver(beat('syncing', 5));
    expect(h.calls).toEqual(['decide n2 negotiating', 'decide n2 syncing']);
  });

  it('a standby whose primary runs solo joins again', () => {
    const h = harness('standby');
    h.deliver(beat('solo', 5));
    expect(h.events.at(-1)).toEqual({ type: 'RESYNC', reason: 'primary n2 runs solo: rejoining' });
  });

  it('a handover is taken only by a standby that holds everything the primary had', () => {
    const short = harness('standby', 5, 9);
    short.deliver(handover(5, 10));
    expect(short.types()).not.toContain('PRIMARY_LEFT');
    const full = harness('standby', 5, 10);
    full.deliver(handover(5, 10));
    expect(full.events.at(-1)).toEqual({ type: 'PRIMARY_LEFT', reason: 'primary n2 handed over (planned switch-over)' });
    const primary = harness('primary', 5, 10);
    primary.deliver(handover(5, 10));
    expect(primary.types()).not.toContain('PRIMARY_LEFT');
  });

  it('a malformed message never reaches the dispatch', () => {
    const h = harness('primary');
    h.bus.publish(SUBJECTS.node('n1'), new Uint8Array([1, 2, 3]));
    expect(h.events).toEqual([]);
    expect(h.dispatch.lastPeerAt).toBe(Number.NEGATIVE_INFINITY);
  });
});
