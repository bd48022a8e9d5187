/**
 * The node-to-node channel: one subscription on this node's own subject, one switch on
 * the message kind (docs/CONTRIBUTING.md, habit 6), and sends to the peer's subject.
 * Malformed messages are logged and dropped, never thrown into the core.
 */
import { decodeNodeMessage, encodeNodeMessage, type NodeKind, type NodeMessage, type Subjects } from '@txtest/protocol';
import type { Logger, Subscription, Transport } from '../transport';

export class PeerLink {
  private sub: Subscription | null = null;
  private readonly peerSubject: string;

  constructor(
    private readonly transport: Transport,
    private readonly subjects: Subjects,
    private readonly nodeId: string,
    readonly peerId: string,
    private readonly onMessage: (m: NodeMessage) => void,
    private readonly log: Logger,
    /** A handler threw (logged there, at error level): the message is dropped. */
    private readonly onError: (err: Error, kind: NodeKind) => void,
  ) {
    this.peerSubject = subjects.node(peerId);
  }

  start(): void {
    this.sub = this.transport.subscribe(this.subjects.node(this.nodeId), (data) => {
      const m = decodeNodeMessage(data);
      if (typeof m === 'string') {
        this.log.warn({ problem: m }, 'dropped a malformed node message');
        return;
      }
      if (m.header.from !== this.peerId) {
        this.log.warn({ from: m.header.from }, 'dropped a node message from a node that is not the configured peer');
        return;
      }
      try {
        this.onMessage(m);
      } catch (err) {
        // A peer's message must never take this node down; the stream recovers by resend or rejoin.
        this.onError(err instanceof Error ? err : new Error(String(err)), m.kind);
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
