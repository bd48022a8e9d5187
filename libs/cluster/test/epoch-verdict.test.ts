/**
 * The pure epoch classifier of peer messages: every rule of epoch-verdict.ts, for every
 * role it distinguishes, and what the test-only fault `no-fencing` changes.
 */
import { describe, expect, it } from 'vitest';
import type { RoleState } from '@txtest/actors';
import { NodeKind, type NodeMessage } from '@txtest/protocol';
import { claimsPrimary, epochVerdict, type EpochFacts } from '../src/pair/epoch-verdict';

const payload = new Uint8Array(0);
const beat = (role: string, epoch: number, from = 'n2'): NodeMessage => ({
  kind: NodeKind.HEARTBEAT,
  header: { from, epoch, role, primary: '', recordRole: '', lastSeq: 0, ackSeq: 0, history: [] },
  payload,
});
const hello = (role: string, epoch: number): NodeMessage => ({ ...beat(role, epoch), kind: NodeKind.HELLO }) as NodeMessage;
const replicate = (epoch: number): NodeMessage => ({ kind: NodeKind.REPLICATE, header: { from: 'n2', epoch } as never, payload });
const ack = (epoch: number): NodeMessage => ({ kind: NodeKind.ACK, header: { from: 'n2', epoch, seq: 1 } as never, payload });

const me = (role: RoleState, epoch = 5, over: Partial<EpochFacts> = {}): EpochFacts => ({ nodeId: 'n1', role, epoch, fences: true, ...over });

describe('claimsPrimary', () => {
  it('replication, snapshots and sync plans claim it; a beat or hello only with a serving role', () => {
    expect(claimsPrimary(replicate(1))).toBe(true);
    expect(claimsPrimary({ kind: NodeKind.SNAPSHOT, header: { from: 'n2', epoch: 1 } as never, payload })).toBe(true);
    expect(claimsPrimary({ kind: NodeKind.SYNC, header: { from: 'n2', epoch: 1 } as never, payload })).toBe(true);
    expect(claimsPrimary(beat('primary', 1))).toBe(true);
    expect(claimsPrimary(hello('solo', 1))).toBe(true);
    expect(claimsPrimary(beat('standby', 1))).toBe(false);
    expect(claimsPrimary(ack(1))).toBe(false);
  });
});

describe('epochVerdict', () => {
  it('a primary of a newer epoch fences a serving, promoting or standby node', () => {
    for (const role of ['primary', 'solo', 'promoting', 'standby'] as const) expect(epochVerdict(replicate(6), me(role)), role).toBe('fence');
  });

  it('a primary of a newer epoch is adopted by a syncing node and decides a negotiating one', () => {
    expect(epochVerdict(beat('primary', 6), me('syncing'))).toBe('adopt');
    expect(epochVerdict(beat('primary', 6), me('negotiating'))).toBe('decide-standby');
  });

  it('a primary of a newer epoch is handled by kind in the roles that do not serve or follow', () => {
    for (const role of ['starting', 'recovering', 'fenced', 'stopping'] as const) expect(epochVerdict(beat('solo', 6), me(role)), role).toBe('dispatch');
  });

  it('a peer in a newer epoch that does not claim primary fences a serving node on its beat or hello only', () => {
    expect(epochVerdict(beat('negotiating', 6), me('primary'))).toBe('fence');
    expect(epochVerdict(hello('negotiating', 6), me('solo'))).toBe('fence');
    expect(epochVerdict(ack(6), me('primary'))).toBe('dispatch');
    expect(epochVerdict(beat('negotiating', 6), me('standby'))).toBe('dispatch');
  });

  it('a stale primary is told the epoch by a node that serves or follows, and otherwise handled by kind', () => {
    for (const role of ['primary', 'solo', 'standby', 'syncing'] as const) expect(epochVerdict(replicate(4), me(role)), role).toBe('tell-stale');
    expect(epochVerdict(beat('primary', 4), me('negotiating'))).toBe('dispatch');
  });

  it('two primaries in one epoch: the lower node id keeps it', () => {
    expect(epochVerdict(beat('primary', 5, 'n0'), me('primary'))).toBe('fence');
    expect(epochVerdict(beat('primary', 5, 'n2'), me('primary'))).toBe('ignore');
    expect(epochVerdict(beat('primary', 5, 'n0'), me('standby'))).toBe('dispatch');
  });

  it('messages of the same or an older epoch that claim nothing are handled by kind', () => {
    expect(epochVerdict(ack(5), me('primary'))).toBe('dispatch');
    expect(epochVerdict(beat('standby', 3), me('primary'))).toBe('dispatch');
  });

  it('under no-fencing, a serving or promoting node ignores a newer primary and keeps serving past a newer peer', () => {
    const off = { fences: false };
    expect(epochVerdict(replicate(6), me('primary', 5, off))).toBe('ignore');
    expect(epochVerdict(replicate(6), me('promoting', 5, off))).toBe('ignore');
    expect(epochVerdict(beat('negotiating', 6), me('solo', 5, off))).toBe('dispatch');
    // A follower still fences: the fault breaks only the serving side.
    expect(epochVerdict(replicate(6), me('standby', 5, off))).toBe('fence');
  });
});
