/**
 * The fast half of failure detection (docs/PAIR.md, "Detecting a dead peer").
 *
 * NATS answers a request to a subject nobody subscribes to with "no responders" at
 * once, and a process's subscriptions end when its connection closes: after a SIGKILL,
 * as soon as the kernel has torn the process down (a few ms for a small one, about
 * 100 ms for a 1.5 GB heap), well before four missed heartbeats add up. So once the
 * watched peer has been silent for a heartbeat and a half, this node asks the peer's own
 * subject every fifth of an interval; "no responders" to a probe sent after the peer last
 * spoke means its connection is gone: whatever it is doing, it can neither serve clients
 * nor replicate. A stalled or cut-off peer keeps its subscription (the server holds the
 * connection), so its probes are answered or time out, and the heartbeat timeout decides
 * as before: a probe never turns a stall into a failover.
 */
import type { Clock, TimerHandle } from '@txtest/actors';
import { isNoResponders, type Transport } from '../transport';

export interface PeerProbeDeps {
  transport: Transport;
  /** The peer's node subject (its PeerLink answers an empty message there). */
  subject: string;
  clock: Clock;
  intervalMs: number;
  /** How long an unanswered probe is kept (the peer timeout: a stalled peer answers late). */
  timeoutMs: number;
  /** When the peer's last message arrived. */
  lastPeerAt(): number;
  /** The role watches the peer (primary, standby, syncing): only then is its absence news. */
  watching(): boolean;
  /** Nobody listens on the peer's subject; `silentMs` since it last spoke. */
  onGone(silentMs: number): void;
}

/** A probe and its answer: empty, so no node message is ever mistaken for one. */
export const PROBE_BODY = new Uint8Array(0);

export class PeerProbe {
  private timer: TimerHandle | null = null;
  private running = false;
  /** When PEER_GONE was last reported: once per silence, not once per probe. */
  private reportedAt = Number.NEGATIVE_INFINITY;
  /** Probes sent (the tests read it). */
  sent = 0;
  private readonly afterMs: number;
  private readonly everyMs: number;

  constructor(private readonly d: PeerProbeDeps) {
    // An idle pair's heartbeats come every interval: half an interval late is already rare.
    this.afterMs = 1.5 * d.intervalMs;
    this.everyMs = Math.max(1, d.intervalMs / 5);
  }

  start(): void {
    this.running = true;
    this.schedule(this.afterMs);
  }

  stop(): void {
    this.running = false;
    if (this.timer !== null) this.d.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(ms: number): void {
    this.timer = this.d.clock.setTimeout(() => this.check(), ms);
  }

  /** One timer: at the end of the allowed silence, then every fifth of an interval while it lasts. */
  private check(): void {
    this.timer = null;
    if (!this.running) return;
    const { d } = this;
    const now = d.clock.now();
    const last = d.lastPeerAt();
    const quietFor = now - last;
    if (!d.watching() || this.reportedAt > last) return this.schedule(this.afterMs);
    if (quietFor < this.afterMs) return this.schedule(Math.max(this.everyMs, this.afterMs - quietFor));
    this.sent++;
    d.transport.request(d.subject, PROBE_BODY, d.timeoutMs).then(
      () => undefined,
      (err: unknown) => this.answered(err, now),
    );
    this.schedule(this.everyMs);
  }

  private answered(err: unknown, sentAt: number): void {
    const { d } = this;
    // The peer spoke after this probe left (a reconnect, a late answer): not gone.
    if (!isNoResponders(err) || !this.running || d.lastPeerAt() >= sentAt || this.reportedAt > d.lastPeerAt() || !d.watching()) return;
    const now = d.clock.now();
    this.reportedAt = now;
    d.onGone(now - d.lastPeerAt());
  }
}
