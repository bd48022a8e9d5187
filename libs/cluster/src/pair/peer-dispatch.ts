/**
 * Every message from the peer: liveness for the role machine, the peer's summary, the
 * epoch verdict (epoch-verdict.ts), then one handler per kind.
 */
import type { Clock, RoleEvent, RoleState } from '@txtest/actors';
import { NodeKind, type NodeMessage, type NodeSummary } from '@txtest/protocol';
import { claimsPrimary, epochVerdict, isServing, type EpochVerdict } from './epoch-verdict';
import type { Follower } from './follower';
import type { Replicator } from './replicator';

type Msg<K extends NodeKind> = Extract<NodeMessage, { kind: K }>;

export interface PeerDispatchDeps {
  nodeId: string;
  clock: Clock;
  heartbeatIntervalMs: number;
  /** False only under the test-only fault `no-fencing`. */
  fences: boolean;
  follower: Follower;
  replicator: Replicator;
  role(): RoleState;
  /** This node's epoch (its epoch record's). */
  epoch(): number;
  lastSeq(): number;
  /** A node whose log (or epoch record) failed follows no more: it could not keep what it took. */
  failed(): boolean;
  send(event: RoleEvent): void;
  /** Answers a stale primary with this node's heartbeat. */
  tellStale(): void;
  /** Records the sender as primary of its newer epoch (a syncing node). */
  adopt(epoch: number, primary: string): void;
  /** Negotiation's rule, on a hello or heartbeat while negotiating. */
  decide(peer: NodeSummary): void;
  fail(err: Error): void;
}

export class PeerDispatch {
  /** When the peer was last heard (any message). */
  lastPeerAt = Number.NEGATIVE_INFINITY;
  /** The peer's last hello, heartbeat or join. */
  peer: NodeSummary | null = null;
  private lastAliveSentAt = Number.NEGATIVE_INFINITY;
  /** The standby's lastSeq when the primary's previous heartbeat came. */
  private seqAtLastBeat = -1;

  constructor(private readonly d: PeerDispatchDeps) {}

  readonly onMessage = (m: NodeMessage): void => {
    const now = this.d.clock.now();
    this.lastPeerAt = now;
    const role = this.d.role();
    this.noteAlive(m, role, now);
    if (m.kind === NodeKind.HEARTBEAT || m.kind === NodeKind.HELLO || m.kind === NodeKind.JOIN) this.peer = m.header;
    const verdict = epochVerdict(m, { nodeId: this.d.nodeId, role, epoch: this.d.epoch(), fences: this.d.fences });
    if (this.actOn(verdict, m)) this.byKind(m, role, now);
  };

  /** A follower watches its primary, not any peer: two syncing nodes must not keep each other waiting. */
  private noteAlive(m: NodeMessage, role: RoleState, now: number): void {
    const following = role === 'standby' || role === 'syncing';
    if ((!following || (claimsPrimary(m) && m.header.epoch >= this.d.epoch())) && now - this.lastAliveSentAt >= this.d.heartbeatIntervalMs / 4) {
      this.lastAliveSentAt = now;
      this.d.send({ type: 'PEER_ALIVE' });
    }
  }

  /** Acts on the epoch verdict; whether the message is handled by its kind after. */
  private actOn(verdict: EpochVerdict, m: NodeMessage): boolean {
    const h = m.header;
    switch (verdict) {
      case 'dispatch':
        return true;
      case 'adopt':
        this.d.adopt(h.epoch, h.from);
        return true;
      case 'fence':
        this.d.send({ type: 'HIGHER_EPOCH', epoch: h.epoch, from: h.from });
        return false;
      case 'decide-standby':
        this.d.send({ type: 'DECIDED_STANDBY', reason: `peer ${h.from} is primary in epoch ${h.epoch}` });
        return false;
      case 'tell-stale':
        this.d.tellStale();
        return false;
      case 'ignore':
        return false;
    }
  }

  private byKind(m: NodeMessage, role: RoleState, now: number): void {
    switch (m.kind) {
      case NodeKind.HELLO:
      case NodeKind.HEARTBEAT:
        return this.onBeat(m, role, now);
      case NodeKind.JOIN:
        return this.onJoin(m, role, now);
      case NodeKind.REPLICATE:
        return this.onReplicate(m, role, now);
      case NodeKind.SNAPSHOT:
        return this.onSnapshot(m, role, now);
      case NodeKind.SYNC:
        return this.onSync(m, role, now);
      case NodeKind.ACK:
        return this.onAck(m, role);
      case NodeKind.RESEND:
        return this.onResend(m, role);
      case NodeKind.HANDOVER:
        return this.onHandover(m, role);
      default: {
        const never: never = m;
        return never;
      }
    }
  }

  private onBeat(m: Msg<typeof NodeKind.HELLO> | Msg<typeof NodeKind.HEARTBEAT>, role: RoleState, now: number): void {
    if (role === 'negotiating') return this.d.decide(m.header);
    if (role !== 'standby') return;
    if (m.header.role === 'solo') return this.d.send({ type: 'RESYNC', reason: `primary ${m.header.from} runs solo: rejoining` });
    if (m.kind !== NodeKind.HEARTBEAT) return;
    // The primary holds records this standby has not got, and none arrived since the
    // last heartbeat: the batch carrying them was lost and the stream went quiet.
    // Ask for them rather than wait for a next batch that may never come.
    const have = this.d.lastSeq();
    if (m.header.lastSeq > have && have === this.seqAtLastBeat) this.d.follower.askResend(have + 1, now);
    this.seqAtLastBeat = have;
  }

  private onJoin(m: Msg<typeof NodeKind.JOIN>, role: RoleState, now: number): void {
    if (isServing(role)) this.d.replicator.onJoin(m.header, now);
  }

  private following(role: RoleState): boolean {
    return (role === 'syncing' || role === 'standby') && !this.d.failed();
  }

  private onReplicate(m: Msg<typeof NodeKind.REPLICATE>, role: RoleState, now: number): void {
    if (this.following(role)) this.d.follower.onReplicate(m.header, m.payload, now);
  }

  private onSnapshot(m: Msg<typeof NodeKind.SNAPSHOT>, role: RoleState, now: number): void {
    if (this.following(role)) this.d.follower.onSnapshot(m.header, m.payload, now);
  }

  private onSync(m: Msg<typeof NodeKind.SYNC>, role: RoleState, now: number): void {
    // A new plan for a standby (its tail was compacted away under a resend) replaces its
    // state: it must be syncing meanwhile, not a standby that could take over half-loaded.
    if (role === 'standby' && this.d.follower.isNewPlan(m.header)) {
      return this.d.send({ type: 'RESYNC', reason: `primary ${m.header.from} planned the sync again: catching up anew` });
    }
    if (role === 'syncing' && !this.d.failed()) void this.d.follower.onSync(m.header, now).catch((err: Error) => this.d.fail(err));
  }

  private onAck(m: Msg<typeof NodeKind.ACK>, role: RoleState): void {
    // A stopping primary still counts acks: its handover waits for them.
    // An ack from a node in a newer epoch is not from our standby (it serves that epoch).
    if ((isServing(role) || role === 'stopping') && m.header.epoch <= this.d.epoch()) this.d.replicator.onAck(m.header);
  }

  private onResend(m: Msg<typeof NodeKind.RESEND>, role: RoleState): void {
    if (isServing(role)) this.d.replicator.onResend(m.header);
  }

  private onHandover(m: Msg<typeof NodeKind.HANDOVER>, role: RoleState): void {
    if (role === 'standby' && m.header.epoch === this.d.epoch() && this.d.lastSeq() >= m.header.lastSeq) {
      this.d.send({ type: 'PRIMARY_LEFT', reason: `primary ${m.header.from} handed over (planned switch-over)` });
    }
  }
}
