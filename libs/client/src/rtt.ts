/**
 * The round-trip estimate behind each attempt's timeout (TCP's retransmission timer,
 * RFC 6298): srtt + 4 * rttvar, never below the configured attempt timeout. A fixed
 * timeout shorter than the queueing delay of a loaded node turns load into retries
 * that add more load (each retry is deduplicated, but still decoded and answered);
 * scaling with the measured round trip keeps retries for real losses, while an idle or
 * lightly loaded cluster keeps the short timeout that makes failover quick.
 */
export class RttEstimator {
  private srttMs = 0;
  private rttvarMs = 0;
  private sampled = false;
  /**
   * Doubles when an attempt times out, back to 1 with the next fresh sample (RFC 6298
   * 5.5), at most 4x: a client has many attempts in flight, and a dead primary times
   * them all out at once, which is one loss event, not one per attempt.
   */
  private backoff = 1;
  private lastTimeoutMs = 0;

  /** A round trip of an attempt that was not a retry (Karn's rule: a retry's reply is ambiguous). */
  sample(rttMs: number): void {
    this.backoff = 1;
    this.lastTimeoutMs = 0;
    if (!this.sampled) {
      this.sampled = true;
      this.srttMs = rttMs;
      this.rttvarMs = rttMs / 2;
      return;
    }
    this.rttvarMs = 0.75 * this.rttvarMs + 0.25 * Math.abs(this.srttMs - rttMs);
    this.srttMs = 0.875 * this.srttMs + 0.125 * rttMs;
  }

  /**
   * An attempt sent with `attemptTimeoutMs` got no reply in time: until a reply shows the
   * round trip again, wait longer. Attempts sent before the last doubling do not double again.
   */
  timedOut(attemptTimeoutMs: number): void {
    if (attemptTimeoutMs <= this.lastTimeoutMs) return;
    this.backoff = Math.min(this.backoff * 2, 4);
    this.lastTimeoutMs = attemptTimeoutMs;
  }

  timeoutMs(minMs: number, maxMs: number): number {
    const t = Math.min(maxMs, this.backoff * Math.max(minMs, this.srttMs + 4 * this.rttvarMs));
    if (this.backoff === 1) this.lastTimeoutMs = 0;
    return t;
  }
}
