/**
 * The simulator's one event queue, ordered by (simulated time, sequence number). Every
 * timer, network delivery, disk completion and fault is an event here; time moves only
 * when the next event is taken. After each event the microtask queue is drained with a
 * real macrotask barrier (a MessageChannel round trip: no real I/O of the simulated
 * world is ever pending), so promise chains settle before the next event, as they do
 * between two macrotasks of a real event loop.
 *
 * Events may have an owner: a node's incarnation. A dead incarnation's events are
 * dropped (the process is gone); a paused one's are postponed to the end of the pause
 * (a GC stop or SIGSTOP), in their original order.
 */
import { MessageChannel } from 'node:worker_threads';
import { fnv1a } from './prng';

export interface Owner {
  alive: boolean;
  pausedUntil: number;
}

interface Ev {
  t: number;
  n: number;
  fn: () => void;
  owner: Owner | null;
  label: string;
  cancelled: boolean;
}

export type EventHandle = Ev;

const channel = new MessageChannel();
const wakes: (() => void)[] = [];
channel.port1.on('message', () => wakes.shift()?.());
channel.port1.unref();

/** Resolves after every queued microtask has run (a macrotask barrier). */
export function drainMicrotasks(): Promise<void> {
  return new Promise<void>((resolve) => {
    wakes.push(resolve);
    channel.port2.postMessage(0);
  });
}

export class Scheduler {
  now = 0;
  private heap: Ev[] = [];
  private seq = 0;
  /** Events run so far. */
  events = 0;
  /** FNV-1a over every executed event and trace line. */
  hash = 0x811c9dc5;
  /** Every trace line, when tracing; null otherwise. */
  lines: string[] | null = null;
  onLine: ((line: string) => void) | null = null;

  at(t: number, fn: () => void, owner: Owner | null, label: string): EventHandle {
    const ev: Ev = { t: Math.max(t, this.now), n: this.seq++, fn, owner, label, cancelled: false };
    this.push(ev);
    return ev;
  }

  after(ms: number, fn: () => void, owner: Owner | null, label: string): EventHandle {
    return this.at(this.now + Math.max(0, ms), fn, owner, label);
  }

  cancel(ev: EventHandle): void {
    ev.cancelled = true;
  }

  /** Adds a line to the trace (and, unless it is only a note for readers, to the trace hash). */
  trace(line: string, hashed = true): void {
    if (hashed) this.hash = fnv1a(line, fnv1a(`@${this.now.toFixed(3)} `, this.hash));
    if (this.lines !== null) {
      const l = `${(this.now / 1000).toFixed(6)}s ${line}`;
      this.lines.push(l);
      this.onLine?.(l);
    }
  }

  get pending(): number {
    return this.heap.length;
  }

  /**
   * Runs events until `stop()` says so (checked after each event) or simulated time
   * would pass `tMax`. Returns true if `stop()` ended the run.
   */
  async run(tMax: number, stop: () => boolean, afterEach?: () => void): Promise<boolean> {
    // The barrier's port keeps the process alive only while a run is going.
    channel.port1.ref();
    try {
      return await this.loop(tMax, stop, afterEach);
    } finally {
      channel.port1.unref();
    }
  }

  private async loop(tMax: number, stop: () => boolean, afterEach?: () => void): Promise<boolean> {
    for (;;) {
      if (stop()) return true;
      const ev = this.pop();
      if (ev === undefined) return false;
      if (ev.t > tMax) {
        this.push(ev);
        this.now = Math.max(this.now, tMax);
        return false;
      }
      if (ev.cancelled) continue;
      const o = ev.owner;
      if (o !== null) {
        if (!o.alive) continue;
        if (o.pausedUntil > ev.t) {
          ev.t = o.pausedUntil;
          ev.n = this.seq++;
          this.push(ev);
          continue;
        }
      }
      this.now = ev.t;
      this.events++;
      this.hash = fnv1a(ev.label, Math.imul(this.hash ^ Math.floor(ev.t * 1000), 0x01000193) >>> 0);
      if (this.lines !== null) this.trace(`. ${ev.label}`, false);
      ev.fn();
      await drainMicrotasks();
      afterEach?.();
    }
  }

  private less(a: Ev, b: Ev): boolean {
    return a.t < b.t || (a.t === b.t && a.n < b.n);
  }

  private push(ev: Ev): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Ev | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
