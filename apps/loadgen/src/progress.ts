/**
 * The live one-line progress display: rewritten in place on a terminal at most 4 times
 * a second (rate and p99 of the last complete interval, error and retry counts, the
 * current primary). Silent when stderr is not a terminal unless forced with --progress on.
 */
import type { Aggregate } from './aggregate';
import type { PrimaryWatch } from './primary-watch';
import { absNowMs } from './recorder';
import { fmtInt, fmtUs } from './report';

export class Progress {
  private timer: ReturnType<typeof setInterval> | null = null;
  private errors = 0;
  private retries = 0;
  private counted = 0;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly agg: () => Aggregate | null,
    private readonly watch: PrimaryWatch,
    private readonly tty: boolean,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.draw(), 250);
    this.timer.unref();
  }

  line(): string {
    const agg = this.agg();
    if (agg === null) return 'connecting...';
    const last = agg.lastComplete();
    for (; this.counted <= last; this.counted++) {
      const r = agg.row(this.counted);
      this.errors += r.errors;
      this.retries += r.retries;
    }
    const t = (absNowMs() - agg.startMs) / 1000;
    const phase = absNowMs() < agg.measuredFromMs ? 'warm-up' : absNowMs() < agg.measuredToMs ? 'measuring' : 'draining';
    const r = last >= 0 ? agg.row(last) : null;
    const summary = this.watch.summary;
    const primary = summary === null ? 'primary ?' : `primary ${summary}`;
    return `${t.toFixed(1).padStart(6)} s  ${phase.padEnd(9)}  ${r === null ? '-' : `${fmtInt(r.rate)}/s`}  p99 ${r === null || r.latency.count === 0 ? '-' : fmtUs(r.latency.p99Us)}  errors ${fmtInt(this.errors)}  retries ${fmtInt(this.retries)}  ${primary}`;
  }

  private draw(): void {
    const text = this.line();
    this.out.write(this.tty ? `\r${text}\x1b[K` : `${text}\n`);
  }

  stop(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    if (this.tty) this.out.write('\r\x1b[K');
  }
}
