/**
 * Request-reply over one wildcard reply subscription: the correlation id travels in
 * the reply subject, so a request costs one publish and one map entry, not the
 * per-call subscription, timer and Error that `nc.request()` builds (1.7-1.8x its
 * throughput: docs/DECISIONS.md, "The processing path"). A sweeper fails requests
 * older than their timeout; NATS "no responders" (status 503) fails one at once.
 */
import { createInbox, headers, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/nats-core';

/**
 * How a request ended. `late` comes after `timeout`, for a reply that arrived once the
 * attempt had been given up: still the server's answer to that request id.
 */
export type MuxOutcome =
  { kind: 'reply'; data: Uint8Array } | { kind: 'timeout' } | { kind: 'no-responders' } | { kind: 'closed' } | { kind: 'late'; data: Uint8Array };

interface Outstanding {
  sentAt: number;
  timeoutMs: number;
  /** Set once it timed out: it is then kept for a late reply until `lateUntil`. */
  lateUntil: number;
  done: (o: MuxOutcome) => void;
}

/**
 * How long a timed-out attempt still takes its late reply: four times its timeout, at
 * least a second. A node that took over answers its first burst late (a 25 ms probe of a
 * silent cluster times out while it works through it), and dropping those answers made
 * each job wait for yet another attempt: 58-121 ms more in two kills of a drill.
 */
const LATE_MS_MIN = 1_000;

const JSON_HEADERS: MsgHdrs = (() => {
  const h = headers();
  h.set('Content-Type', 'application/json');
  return h;
})();

export class ReplyMux {
  private readonly prefix: string;
  private readonly outstanding = new Map<string, Outstanding>();
  private next = 0;
  /** Entries of `outstanding` that timed out and wait only for a late reply. */
  private lateCount = 0;
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

  /** Requests in flight (not the timed-out ones kept for a late reply). */
  get size(): number {
    return this.outstanding.size - this.lateCount;
  }

  request(subject: string, data: Uint8Array, timeoutMs: number, done: (o: MuxOutcome) => void, json = false): void {
    const id = (this.next++).toString(36);
    this.outstanding.set(id, { sentAt: performance.now(), timeoutMs, lateUntil: -1, done });
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
    if (o === undefined) return; // later than even the late window: a retry gets the deduplicated original
    this.outstanding.delete(id);
    if (o.lateUntil >= 0) {
      this.lateCount--;
      if (!noResponders) o.done({ kind: 'late', data: msg.data });
      return;
    }
    if (noResponders) return o.done({ kind: 'no-responders' });
    o.done({ kind: 'reply', data: msg.data });
  }

  private sweep(): void {
    const now = performance.now();
    // Map order is send order, but timeouts may differ: check all (the map is the in-flight window and its late tail).
    for (const [id, o] of this.outstanding) {
      if (o.lateUntil >= 0) {
        if (now >= o.lateUntil) {
          this.outstanding.delete(id);
          this.lateCount--;
        }
      } else if (now - o.sentAt >= o.timeoutMs) {
        o.lateUntil = now + Math.max(LATE_MS_MIN, 4 * o.timeoutMs);
        this.lateCount++;
        o.done({ kind: 'timeout' });
      }
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sub.unsubscribe();
    for (const o of this.outstanding.values()) if (o.lateUntil < 0) o.done({ kind: 'closed' });
    this.outstanding.clear();
    this.lateCount = 0;
  }
}
