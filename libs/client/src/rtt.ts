/**
 * The round-trip estimate behind each attempt's timeout (TCP's retransmission timer,
 * RFC 6298): srtt + 4 * rttvar, never below the configured attempt timeout. A fixed
 * timeout shorter than the queueing delay of a loaded node turns load into retries
 * that add more load (each retry is deduplicated, but still decoded and answered);
 * scaling with the measured round trip keeps retries for real losses, while an idle or
 * lightly loaded cluster keeps the short timeout that makes failover quick.
 */
/** The shortest attempt timeout while the cluster is silent (see `silent`). */
export const PROBE_FLOOR_MS = 25;

export class RttEstimator {
  private srttMs = 0;
  private rttvarMs = 0;
  private sampled = false;
  /**
   * The timeout's multiplier, back to 1 with the next fresh sample (RFC 6298 5.5), at
   * most 4x. A client has many attempts in flight, and a dead primary times them all out
   * at once: one loss event, not one per attempt. The first loss since a sample leaves
   * the timeout as it was: it is what a failover looks like, and the retries may still be
   * routed to the dead primary for a while (a SIGKILLed process closes its sockets only
   * after its memory is torn down, 100-200 ms at a million accounts), so a doubled timeout
   * came straight out of the failover gap. A loss of attempts sent after that one is a
   * node too slow for the timeout: each such loss doubles it.
   */
  private backoff = 1;
  /** When the current loss event began (attempts sent before it belong to it), or -1. */
  private lossSince = -1;
  /** When any reply last arrived, a retry's too: evidence that something serves. */
  private lastReplyAt = Number.NEGATIVE_INFINITY;
  /** When the server last said "no responders": nothing was subscribed, a dead primary's connection included. */
  private lastNoRespondersAt = Number.NEGATIVE_INFINITY;

  /** A round trip of an attempt that was not a retry (Karn's rule: a retry's reply is ambiguous). */
  sample(rttMs: number): void {
    this.backoff = 1;
    this.lossSince = -1;
    if (!this.sampled) {
      this.sampled = true;
      this.srttMs = rttMs;
      this.rttvarMs = rttMs / 2;
      return;
    }
    this.rttvarMs = 0.75 * this.rttvarMs + 0.25 * Math.abs(this.srttMs - rttMs);
    this.srttMs = 0.875 * this.srttMs + 0.125 * rttMs;
  }

  /** Any reply, a retry's included (it says nothing of the round trip, but that the cluster answers). */
  replied(nowMs: number): void {
    this.lastReplyAt = nowMs;
  }

  /** The server answered "no responders" for an attempt (see `silent`). */
  noResponders(nowMs: number): void {
    this.lastNoRespondersAt = nowMs;
  }

  /**
   * An attempt sent at `sentAtMs` got no reply in time (noticed at `nowMs`): the first
   * loss since a sample is noted; a later one, of an attempt sent after it began,
   * doubles the wait until a reply shows the round trip again, unless nothing at all
   * has answered since the loss began (see `silent`).
   */
  timedOut(sentAtMs: number, nowMs: number): void {
    if (this.lossSince < 0) {
      this.lossSince = nowMs;
      return;
    }
    if (sentAtMs < this.lossSince) return;
    if (!this.silent) this.backoff = Math.min(this.backoff * 2, 4);
    this.lossSince = nowMs;
  }

  /**
   * Attempts are being lost and no reply of any kind has come since: the primary is gone
   * and there is no load to protect. A retry then waits only the smoothed round trip
   * (at least PROBE_FLOOR_MS), without the variance term or the configured floor: a SIGKILLed primary's socket
   * stays open while the kernel frees its memory (100-200 ms at a million accounts), so
   * the first retries vanish into it, and one that waits the whole floor lands that much
   * after the new primary began to serve. A slow node still answers someone, which ends
   * the silence, and its losses double the timeout as before. So does "no responders"
   * since the last reply: nothing was subscribed then, not even the dead primary's
   * connection, so an attempt that times out after it waits in a live node's queue (the
   * new primary's, working through the takeover's burst), and a retry every round trip
   * only piled duplicates on it.
   */
  private get silent(): boolean {
    return this.lossSince >= 0 && this.lastReplyAt < this.lossSince && this.lastNoRespondersAt <= this.lastReplyAt;
  }

  /**
   * The back-off before a retry after `attempts` attempts (the wait is half to all of it).
   * A node that answers, with a refusal or too slowly, gets the usual doubling per
   * attempt. While nothing answers (`no-responders`: no primary subscribed; a `timeout`
   * of a silent cluster) there is no load to protect, and a back-off doubled over the
   * attempts of a failover came straight out of the gap: a job that met four or five
   * no-responders while the standby took over waited 40-100 ms after the new primary
   * began to serve. Then it grows with how long nothing has answered instead: a
   * sixteenth of that (15 ms at 240 ms), up to the maximum in a long outage.
   */
  backoffMs(reason: string, attempts: number, nowMs: number, initialMs: number, maxMs: number): number {
    if (reason === 'no-responders' || (reason === 'timeout' && this.silent)) {
      return Math.min(maxMs, Math.max(initialMs, (nowMs - this.lastReplyAt) / 16));
    }
    return Math.min(maxMs, initialMs * 2 ** Math.min(attempts - 1, 16));
  }

  timeoutMs(minMs: number, maxMs: number): number {
    if (this.silent) return Math.min(maxMs, this.backoff * Math.max(Math.min(minMs, PROBE_FLOOR_MS), this.srttMs));
    return Math.min(maxMs, this.backoff * Math.max(minMs, this.srttMs + 4 * this.rttvarMs));
  }
}
