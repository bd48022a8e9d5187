/**
 * Negotiation: who serves. With the peer heard, both nodes apply the same rule to the
 * same facts (election.ts, `decide`); alone past the peer timeout, only the arbiter's
 * word with this node's log, or the operator's force, lets it serve (`sendHello`, each
 * heartbeat interval while negotiating). Status shows why a node waits.
 */
import type { Clock, RoleEvent, RoleState } from '@txtest/actors';
import { NodeKind, type NodeSummary, type NodeWaiting } from '@txtest/protocol';
import type { Arbiter } from '../epochs/arbiter';
import { loneVerdict, type ArbiterView, type Candidate, type Election, type MissingRange } from '../epochs/election';
import type { ElectionNotes } from '../epochs/promotion';
import type { Logger } from '../transport';

export interface NegotiationDeps {
  nodeId: string;
  peerId: string;
  clock: Clock;
  log: Logger;
  arbiter: Arbiter | null;
  forcePrimary: boolean;
  /** Where the arbiter value read, the one an election weighed, and a force go for the promotion. */
  notes: ElectionNotes;
  peerTimeoutMs: number;
  elect: (a: Candidate, b: Candidate, arbiter: ArbiterView) => Election;
  /** This node as the election sees it. */
  candidate(): Candidate;
  /** When the peer was last heard. */
  lastPeerAt(): number;
  role(): RoleState;
  send(event: RoleEvent): void;
  sendToPeer(kind: typeof NodeKind.HELLO): void;
}

export class Negotiation {
  /** Why this negotiating node does not serve (status and the log), null when it is not waiting. */
  waiting: NodeWaiting | null = null;
  /** When this node began negotiating (its first wait for the peer counts from there). */
  since = 0;
  private lastArbiterReadAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly d: NegotiationDeps) {}

  /** The role machine's `sendHello`, every heartbeat interval while negotiating. */
  sendHello(): void {
    const { d } = this;
    d.sendToPeer(NodeKind.HELLO);
    const now = d.clock.now();
    const peerHeard = now - d.lastPeerAt() < d.peerTimeoutMs;
    // Both nodes must weigh the same arbiter value, or each may name the other primary and
    // both wait forever: while the peer talks, re-read it once per peer timeout.
    if (d.arbiter && peerHeard && now - this.lastArbiterReadAt >= d.peerTimeoutMs) {
      this.lastArbiterReadAt = now;
      void d.arbiter.read().then(
        (r) => void (d.notes.arbiterRead = r),
        () => undefined,
      );
    }
    // Alone too long: only the arbiter or the operator may let this node serve.
    if (now - this.since < d.peerTimeoutMs || peerHeard) return;
    this.whenAlone(now);
  }

  private whenAlone(now: number): void {
    const { d } = this;
    if (d.forcePrimary) {
      d.log.warn(
        { epoch: d.candidate().record.epoch },
        'FORCED PRIMARY: --force-primary starts this node as primary without its peer; if the peer was primary later, its newer updates will be discarded when it rejoins',
      );
      d.notes.forcing = true;
      return void d.send({ type: 'DECIDED_PRIMARY', reason: 'forced by the operator (--force-primary)' });
    }
    if (!d.arbiter) return this.judgeAlone('off');
    // One arbiter read per peer timeout is plenty while waiting; hellos go out every interval.
    if (now - this.lastArbiterReadAt < d.peerTimeoutMs) return;
    this.lastArbiterReadAt = now;
    void d.arbiter.read().then(
      (r) => {
        d.notes.arbiterRead = r;
        // A peer heard while the read was out is negotiated with instead (decide).
        if (d.role() === 'negotiating' && d.clock.now() - d.lastPeerAt() >= d.peerTimeoutMs) this.judgeAlone(r.value);
      },
      (err: Error) => {
        if (d.role() === 'negotiating') this.waitAlone({ reason: `the arbiter cannot be read: ${err.message}`, missing: [] });
      },
    );
  }

  /** Alone: the arbiter's word and this node's log decide whether it may serve (election.ts). */
  private judgeAlone(view: ArbiterView): void {
    const verdict = loneVerdict(this.d.candidate(), this.d.peerId, view);
    if (verdict.serve) this.d.send({ type: 'DECIDED_PRIMARY', reason: verdict.reason });
    else this.waitAlone(verdict);
  }

  private waitAlone(verdict: { reason: string; missing: MissingRange[] }): void {
    this.logWaiting(`waiting for peer ${this.d.peerId}: ${verdict.reason}`, verdict.missing);
  }

  /** Status shows why this node waits; the log says it once per distinct reason. */
  private logWaiting(reason: string, missing: MissingRange[], force?: string): void {
    if (this.waiting?.reason === reason) return;
    this.waiting = { reason, missing, ...(force === undefined ? {} : { force }) };
    const me = this.d.candidate();
    this.d.log.warn({ peer: this.d.peerId, epoch: me.record.epoch, lastSeq: me.lastSeq, missing }, reason);
  }

  /** The peer is up: both apply the same rule to the same facts. */
  decide(peer: NodeSummary): void {
    const { d } = this;
    if (peer.role === 'primary' || peer.role === 'solo') {
      return void d.send({ type: 'DECIDED_STANDBY', reason: `peer ${peer.from} is ${peer.role} in epoch ${peer.epoch}` });
    }
    if (peer.role === 'starting' || peer.role === 'recovering' || peer.role === 'stopping') return;
    const { primary, reason, refusal } = d.elect(d.candidate(), candidateOf(peer), d.arbiter ? d.notes.arbiterView : 'off');
    if (refusal !== null) {
      if (!d.forcePrimary) return this.logWaiting(`neither node serves: ${refusal.reason}`, refusal.missing, refusal.force);
      d.log.warn(
        { missing: refusal.missing, peer: peer.from },
        `FORCED PRIMARY: --force-primary makes this node primary over the pair's refusal (${refusal.reason}); updates acknowledged in the missing records are discarded`,
      );
      d.notes.forcing = true;
      return void d.send({ type: 'DECIDED_PRIMARY', reason: 'forced by the operator (--force-primary) over the refusal' });
    }
    if (primary === d.nodeId) d.notes.electedOver = d.notes.arbiterView;
    d.send(primary === d.nodeId ? { type: 'DECIDED_PRIMARY', reason } : { type: 'DECIDED_STANDBY', reason });
  }
}

/** The peer as the election sees it, from its hello or heartbeat. */
export function candidateOf(peer: NodeSummary): Candidate {
  const them: Candidate = {
    nodeId: peer.from,
    record: { epoch: peer.epoch, role: peer.recordRole, primary: peer.primary, history: peer.history },
    lastSeq: peer.lastSeq,
  };
  if (peer.since !== undefined) them.record.since = peer.since;
  // Without it the peer's word cannot show it knew of the arbiter's latest epoch (election.ts, newestEpoch).
  them.arbiterSeen = typeof peer.arb === 'number' ? peer.arb : 0;
  return them;
}
