/**
 * A clock the test moves by hand: timers fire, in due order, only inside `advance`.
 * The parts under test take any Clock; this one makes their timing exact.
 */
import type { Clock, TimerHandle } from '@txtest/actors';

export class ManualClock implements Clock {
  private t = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }

  clearTimeout(h: TimerHandle): void {
    this.timers.delete(h as number);
  }

  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms` without firing anything: the event loop was blocked (the next `advance` fires what fell due). */
  block(ms: number): void {
    this.t += ms;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way (at its own time). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | null = null;
      for (const e of this.timers) if (e[1].at <= end && (due === null || e[1].at < due[1].at)) due = e;
      if (due === null) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
    }
    this.t = end;
  }
}

/** A logger that keeps `level msg {fields}` lines. */
export function lineLogger(lines: string[]) {
  const put = (level: string) => (o: object, msg?: string) => void lines.push(`${level} ${msg ?? ''} ${JSON.stringify(o)}`);
  return { debug: put('debug'), info: put('info'), warn: put('warn'), error: put('error') };
}
