/** A processor for the offline commands: what a node would hold, without its log writer, events or timers. */
import { Processor } from '@txtest/actors';
import { getModel } from '@txtest/models';

export function offlineProcessor(): Processor {
  return new Processor({
    clock: { now: () => Date.now(), setTimeout: () => 0, clearTimeout: () => undefined },
    defer: queueMicrotask,
    getModel,
    onRecord: () => undefined,
    onEvent: () => undefined,
  });
}
