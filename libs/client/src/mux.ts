/**
 * Request-reply over one wildcard reply subscription: the correlation id travels in
 * the reply subject, so a request costs one publish and one map entry, not the
 * per-call subscription, timer and Error that `nc.request()` builds (1.7-1.8x its
 * throughput: docs/DECISIONS.md, "The processing path"). A sweeper fails requests
 * older than their timeout; NATS "no responders" (status 503) fails one at once.
 */
import { createInbox, headers, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/nats-core';

export type MuxOutcome = { kind: 'reply'; data: Uint8Array } | { kind: 'timeout' } | { kind: 'no-responders' } | { kind: 'closed' };

interface Outstanding {
  sentAt: number;
  timeoutMs: number;
  done: (o: MuxOutcome) => void;
}

const JSON_HEADERS: MsgHdrs = (() => {
  const h = headers();
  h.set('Content-Type', 'application/json');
  return h;
})();

export class ReplyMux {
  private readonly prefix: string;
  private readonly outstanding = new Map<string, Outstanding>();
  private next = 0;
  private readonly sub: Subscription;
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor(
    private readonly nc: NatsConnection,
    inboxPrefix = '',
    /**
     * Every reply, a late one too (one after its request timed out): `fromNode` for a
     * node's (evidence that the cluster answers), false for the server's "no responders"
     * (evidence that nothing was subscribed, so no attempt waits in a dead connection).
     */
    private readonly onAnyReply: (fromNode: boolean) => void = () => {},
    // Fine enough for the short attempt timeouts of a failover (rtt.ts, PROBE_FLOOR_MS);
    // a sweep costs one comparison per request in flight.
    sweepMs = 10,
  ) {
    this.prefix = `${createInbox(inboxPrefix)}.`;
    this.sub = nc.subscribe(`${this.prefix}*`, { callback: (err, msg) => (err === null ? this.onReply(msg) : undefined) });
    this.sweeper = setInterval(() => this.sweep(), sweepMs);
    this.sweeper.unref();
  }

  get size(): number {
    return this.outstanding.size;
  }

  request(subject: string, data: Uint8Array, timeoutMs: number, done: (o: MuxOutcome) => void, json = false): void {
    const id = (this.next++).toString(36);
    this.outstanding.set(id, { sentAt: performance.now(), timeoutMs, done });
    try {
      this.nc.publish(subject, data, json ? { reply: this.prefix + id, headers: JSON_HEADERS } : { reply: this.prefix + id });
    } catch {
      this.outstanding.delete(id);
      done({ kind: 'closed' });
    }
  }

  private onReply(msg: Msg): void {
    const id = msg.subject.slice(this.prefix.length);
    const h = msg.headers;
    const noResponders = h !== undefined && h.code === 503;
    this.onAnyReply(!noResponders);
    const o = this.outstanding.get(id);
    if (o === undefined) return; // late reply after a timeout: the retry will get the deduplicated original
    this.outstanding.delete(id);
    if (noResponders) return o.done({ kind: 'no-responders' });
    o.done({ kind: 'reply', data: msg.data });
  }

  private sweep(): void {
    const now = performance.now();
    // Map order is send order, but timeouts may differ: check all (the map is the in-flight window, small).
    for (const [id, o] of this.outstanding) {
      if (now - o.sentAt >= o.timeoutMs) {
        this.outstanding.delete(id);
        o.done({ kind: 'timeout' });
      }
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sub.unsubscribe();
    for (const o of this.outstanding.values()) o.done({ kind: 'closed' });
    this.outstanding.clear();
  }
}
