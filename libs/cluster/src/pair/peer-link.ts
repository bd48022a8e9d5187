/**
 * The node-to-node channel: one subscription on this node's own subject, one switch on
 * the message kind (docs/CONTRIBUTING.md, habit 6), and sends to the peer's subject.
 * With a cluster key every message is sealed on the way out and checked on the way in
 * (peer-auth.ts). Whatever fails (malformed, not from the peer, not authentic, a replay)
 * is dropped with no effect, counted by reason, and logged at most once a second.
 */
import type { Clock } from '@txtest/actors';
import { decodeNodeMessage, encodeNodeMessage, type NodeKind, type NodeMessage, type Subjects } from '@txtest/protocol';
import type { Logger, Subscription, Transport } from '../transport';
import { PROBE_BODY } from './peer-probe';
import { AUTH_FLAG, AUTH_TRAILER_BYTES, REJECT_REASONS, type PeerAuth, type RejectReason } from './peer-auth';

export interface PeerLinkDeps {
  transport: Transport;
  subjects: Subjects;
  nodeId: string;
  peerId: string;
  clock: Clock;
  log: Logger;
  /** Null without a cluster key: messages go and come unauthenticated. */
  auth: PeerAuth | null;
  onMessage(m: NodeMessage): void;
  /** A handler threw (logged there, at error level): the message is dropped. */
  onError(err: Error, kind: NodeKind): void;
}

/** What is said about a reason in the rate-limited log line. */
const WHY: Record<RejectReason, string> = {
  malformed: 'malformed',
  'not-peer': 'from a node that is not the configured peer',
  unauthenticated: 'without a MAC while this node holds a cluster key: does the peer run without --cluster-key-file?',
  'no-key': "with a MAC while this node holds no cluster key: give it the peer's --cluster-key-file",
  'bad-mac': 'failing authentication (forged, altered, or the peer holds a different cluster key)',
  replay: 'replayed (seen before, or from an older session of the peer)',
  'stale-session': 'made for an earlier session of this node (a replay from before it restarted)',
};

const LOG_EVERY_MS = 1_000;

export class PeerLink {
  private sub: Subscription | null = null;
  private readonly peerSubject: string;
  private readonly ownSubject: string;
  private readonly reserve: number;
  /** Messages dropped since start, by reason. */
  readonly rejected = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  private lastLogAt = Number.NEGATIVE_INFINITY;
  private unlogged = 0;

  constructor(private readonly d: PeerLinkDeps) {
    this.peerSubject = d.subjects.node(d.peerId);
    this.ownSubject = d.subjects.node(d.nodeId);
    this.reserve = d.auth === null ? 0 : AUTH_TRAILER_BYTES;
  }

  get peerId(): string {
    return this.d.peerId;
  }

  start(): void {
    this.sub = this.d.transport.subscribe(this.ownSubject, (data, reply) => (data.length === 0 ? this.answerProbe(reply) : this.receive(data)));
  }

  send(kind: NodeKind, header: object, payload?: readonly Uint8Array[]): void {
    const bytes = encodeNodeMessage(kind, header, payload, this.reserve);
    this.d.auth?.seal(bytes, this.peerSubject);
    this.d.transport.publish(this.peerSubject, bytes);
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = null;
  }

  /** The peer's probe (peer-probe.ts): it carries nothing and proves nothing, so it is answered by anyone's request. */
  private answerProbe(reply: string): void {
    if (reply !== '') this.d.transport.publish(reply, PROBE_BODY);
  }

  private receive(data: Uint8Array): void {
    const { d } = this;
    let bytes = data;
    if (d.auth !== null) {
      const opened = d.auth.open(data, this.ownSubject);
      if (!opened.ok) {
        if (opened.reason !== null) this.reject(opened.reason, {});
        return;
      }
      bytes = opened.message;
    } else if (data.length > 0 && (data[0]! & AUTH_FLAG) !== 0) {
      return this.reject('no-key', {});
    }
    const m = decodeNodeMessage(bytes);
    if (typeof m === 'string') return this.reject('malformed', { problem: m });
    if (m.header.from !== d.peerId) return this.reject('not-peer', { from: m.header.from });
    try {
      d.onMessage(m);
    } catch (err) {
      // A peer's message must never take this node down; the stream recovers by resend or rejoin.
      d.onError(err instanceof Error ? err : new Error(String(err)), m.kind);
    }
  }

  private reject(reason: RejectReason, fields: object): void {
    this.rejected[reason]++;
    // An intruder can send thousands a second: the log says so once a second, with the count.
    const now = this.d.clock.now();
    if (now - this.lastLogAt < LOG_EVERY_MS) {
      this.unlogged++;
      return;
    }
    this.d.log.warn({ ...fields, reason, droppedSinceLastLine: this.unlogged }, `dropped a node message ${WHY[reason]}`);
    this.lastLogAt = now;
    this.unlogged = 0;
  }
}
