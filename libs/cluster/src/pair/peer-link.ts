/**
 * The node-to-node channel: one subscription on this node's own subject, one switch on
 * the message kind (STYLE.md habit 4), and sends to the peer's subject. Malformed
 * messages are logged and dropped, never thrown into the core.
 */
import { decodeNodeMessage, encodeNodeMessage, type NodeKind, type NodeMessage, type Subjects } from '@txtest/protocol';
import type { Logger, Subscription, Transport } from '../transport';

export class PeerLink {
  private sub: Subscription | null = null;
  private readonly peerSubject: string;
  /** Counts for status and metrics. */
  received = 0;
  dropped = 0;

  constructor(
    private readonly transport: Transport,
    private readonly subjects: Subjects,
    private readonly nodeId: string,
    readonly peerId: string,
    private readonly onMessage: (m: NodeMessage) => void,
    private readonly log: Logger,
  ) {
    this.peerSubject = subjects.node(peerId);
  }

  start(): void {
    this.sub = this.transport.subscribe(this.subjects.node(this.nodeId), (data) => {
      const m = decodeNodeMessage(data);
      if (typeof m === 'string') {
        this.dropped++;
        this.log.warn({ problem: m }, 'dropped a malformed node message');
        return;
      }
      if (m.header.from !== this.peerId) {
        this.dropped++;
        this.log.warn({ from: m.header.from }, 'dropped a node message from a node that is not the configured peer');
        return;
      }
      this.received++;
      try {
        this.onMessage(m);
      } catch (err) {
        // A peer's message must never take this node down; the stream recovers by resend or rejoin.
        this.log.error({ kind: m.kind, err: (err as Error).stack ?? String(err) }, 'handling a node message failed');
      }
    });
  }

  send(kind: NodeKind, header: object, payload?: readonly Uint8Array[]): void {
    this.transport.publish(this.peerSubject, encodeNodeMessage(kind, header, payload));
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = null;
  }
}
