/** The production Clock: real time and timers. Only the app reads the time. */
import type { Clock } from '@txtest/actors';

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};
