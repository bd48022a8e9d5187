/**
 * The first question about every peer message: what its epoch, against this node's,
 * means for this node. Pure: the message, the role and the epoch in, a verdict out;
 * PeerDispatch acts on it. The rules (PROTOCOL.md, fencing):
 *
 * - a primary's message from a newer epoch fences a serving, promoting or standby node,
 *   is adopted by a syncing one (which then takes the message), and decides a
 *   negotiating one for standby;
 * - a peer in a newer epoch that does not claim primary (it won the arbiter, then lost
 *   its process before it served) fences a serving node too;
 * - a primary's message from an older epoch is answered with this node's heartbeat (so
 *   that the stale primary fences itself) and otherwise ignored;
 * - two primaries in one epoch (possible only without an arbiter): the lower id keeps it.
 */
import type { RoleState } from '@txtest/actors';
import { NodeKind, type NodeMessage } from '@txtest/protocol';

export type EpochVerdict =
  /** Handle the message by its kind. */
  | 'dispatch'
  /** Fence: the message shows a newer (or a winning) primary. */
  | 'fence'
  /** Record the sender as the primary of its newer epoch, then handle the message. */
  | 'adopt'
  /** Negotiation is over: the sender is primary in a newer epoch. */
  | 'decide-standby'
  /** Tell the stale sender this node's epoch, and ignore the message. */
  | 'tell-stale'
  | 'ignore';

export interface EpochFacts {
  nodeId: string;
  role: RoleState;
  /** This node's epoch (its epoch record's). */
  epoch: number;
  /** False only under the test-only fault `no-fencing`. */
  fences: boolean;
}

const SERVING: ReadonlySet<RoleState> = new Set(['primary', 'solo']);

export function isServing(role: RoleState): boolean {
  return SERVING.has(role);
}

/** Only a primary sends replication, snapshots and sync plans; a beat or hello says its role. */
export function claimsPrimary(m: NodeMessage): boolean {
  switch (m.kind) {
    case NodeKind.REPLICATE:
    case NodeKind.SNAPSHOT:
    case NodeKind.SYNC:
      return true;
    case NodeKind.HEARTBEAT:
    case NodeKind.HELLO:
      return m.header.role === 'primary' || m.header.role === 'solo';
    default:
      return false;
  }
}

export function epochVerdict(m: NodeMessage, me: EpochFacts): EpochVerdict {
  const theirs = m.header.epoch;
  const serving = SERVING.has(me.role);
  if (claimsPrimary(m)) {
    if (theirs > me.epoch) return newerPrimary(me);
    if (theirs < me.epoch) return serving || me.role === 'standby' || me.role === 'syncing' ? 'tell-stale' : 'dispatch';
    if (!serving) return 'dispatch';
    return me.nodeId > m.header.from ? 'fence' : 'ignore';
  }
  const beat = m.kind === NodeKind.HEARTBEAT || m.kind === NodeKind.HELLO;
  if (theirs > me.epoch && serving && beat && me.fences) return 'fence';
  return 'dispatch';
}

function newerPrimary(me: EpochFacts): EpochVerdict {
  const serving = SERVING.has(me.role) || me.role === 'promoting';
  if (serving && !me.fences) return 'ignore';
  if (serving || me.role === 'standby') return 'fence';
  if (me.role === 'syncing') return 'adopt';
  if (me.role === 'negotiating') return 'decide-standby';
  return 'dispatch';
}
