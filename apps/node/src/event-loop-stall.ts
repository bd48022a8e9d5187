/**
 * The longest event-loop stalls of this process: a stall near the peer timeout
 * (heartbeat interval x missed) is what turns a busy primary into a false failover,
 * so it is watched directly rather than inferred.
 *
 * A timer ticks every `resolutionMs` and notes how late it ran (perf_hooks'
 * monitorEventLoopDelay measures the same, but resetting it drops the interval that
 * straddles the reset, which is exactly a stall's). The recent maximum is the largest
 * lateness of the last `buckets` windows of `bucketMs`, so one stall stays visible for
 * the whole window whatever the scrape interval is.
 */
import { performance } from 'node:perf_hooks';

export class EventLoopStalls {
  private readonly recent: Float64Array;
  private next = 0;
  private current = 0;
  private peak = 0;
  private bucketStart = 0;
  private last = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly bucketMs = 1000,
    readonly buckets = 10,
    /** How often the timer ticks; stalls shorter than this are not seen. */
    private readonly resolutionMs = 10,
  ) {
    this.recent = new Float64Array(buckets);
  }

  start(): void {
    this.last = this.bucketStart = performance.now();
    this.timer = setInterval(() => this.tick(), this.resolutionMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** The longest stall within the last `buckets x bucketMs`, in milliseconds. */
  recentMaxMs(): number {
    let max = this.current;
    for (const v of this.recent) if (v > max) max = v;
    return max;
  }

  /** The longest stall since `start`, in milliseconds. */
  peakMs(): number {
    return this.peak;
  }

  private tick(): void {
    const now = performance.now();
    const late = Math.max(0, now - this.last - this.resolutionMs);
    this.last = now;
    if (late > this.current) this.current = late;
    if (late > this.peak) this.peak = late;
    // A stall is counted in the window where it ends; windows it spanned read as quiet.
    if (now - this.bucketStart >= this.bucketMs) {
      this.recent[this.next] = this.current;
      this.next = (this.next + 1) % this.buckets;
      this.current = 0;
      this.bucketStart = now;
    }
  }
}
