/** The production Clock and Defer: real time and timers. Only the app reads the time. */
import type { Clock, Defer } from '@txtest/actors';

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export const setImmediateDefer: Defer = (fn) => {
  setImmediate(fn);
};
