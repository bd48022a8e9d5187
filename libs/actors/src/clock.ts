/**
 * The injected clock (docs/DECISIONS.md): core code never reads the time or starts a
 * timer by itself, so the simulator can drive a whole pair from one seed.
 */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds; only differences and ordering matter. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Runs `fn` soon, after the current batch of work (production: setImmediate). */
export type Defer = (fn: () => void) => void;
