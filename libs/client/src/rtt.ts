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
  /** Doubles with every attempt that timed out, back to 1 with the next fresh sample (RFC 6298 5.5). */
  private backoff = 1;

  /** A round trip of an attempt that was not a retry (Karn's rule: a retry's reply is ambiguous). */
  sample(rttMs: number): void {
    this.backoff = 1;
    if (!this.sampled) {
      this.sampled = true;
      this.srttMs = rttMs;
      this.rttvarMs = rttMs / 2;
      return;
    }
    this.rttvarMs = 0.75 * this.rttvarMs + 0.25 * Math.abs(this.srttMs - rttMs);
    this.srttMs = 0.875 * this.srttMs + 0.125 * rttMs;
  }

  /** An attempt got no reply in time: until a reply shows the round trip again, wait longer. */
  timedOut(): void {
    this.backoff = Math.min(this.backoff * 2, 64);
  }

  timeoutMs(minMs: number, maxMs: number): number {
    return Math.min(maxMs, this.backoff * Math.max(minMs, this.srttMs + 4 * this.rttvarMs));
  }
}
