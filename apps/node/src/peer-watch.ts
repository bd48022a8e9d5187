/**
 * Learns the peer's HTTP address (and pid) from its status over NATS
 * (`P.C.status.<peer>`, PROTOCOL.md section 5), once a second, so that a page served
 * by one node can follow the other, and find it again after it restarts on a new port.
 */
import type { Transport } from '@txtest/cluster';
import { unpackMsgpack } from '@txtest/protocol';

export interface PeerAddress {
  nodeId: string;
  http: string;
  pid: number;
}

export class PeerWatch {
  /** The last address the peer reported; kept while it is down, so a page knows where to retry. */
  last: PeerAddress | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private asking = false;

  constructor(
    private readonly transport: Transport,
    private readonly peerId: string,
    private readonly statusSubject: string,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    void this.ask();
    this.timer = setInterval(() => void this.ask(), this.intervalMs);
    this.timer.unref();
  }

  private async ask(): Promise<void> {
    if (this.asking) return;
    this.asking = true;
    try {
      const reply = unpackMsgpack(await this.transport.request(this.statusSubject, new Uint8Array(0), Math.min(500, this.intervalMs))) as Partial<PeerAddress>;
      if (typeof reply.http === 'string' && reply.http !== '')
        this.last = { nodeId: this.peerId, http: reply.http, pid: typeof reply.pid === 'number' ? reply.pid : 0 };
    } catch {
      // The peer is down or not yet up: keep the last address.
    } finally {
      this.asking = false;
    }
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
