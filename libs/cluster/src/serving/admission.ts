/**
 * The two processor fields the node changes outside the role machine's transitions:
 * whether it admits updates, and the epoch its turns are stamped with. Each changes here
 * only, with a reason in the log, so that a trace shows why a node refused or stamped.
 */
import type { Processor } from '@txtest/actors';
import type { Logger } from '../transport';

export class Admission {
  constructor(
    private readonly processor: Processor,
    private readonly log: Logger,
  ) {}

  setAccepting(on: boolean, reason: string): void {
    if (this.processor.accepting === on) return;
    this.processor.accepting = on;
    this.log.debug({ accepting: on, reason }, on ? 'admitting updates' : 'refusing updates');
  }

  setEpoch(epoch: number, reason: string): void {
    const from = this.processor.epoch;
    if (from === epoch) return;
    this.processor.epoch = epoch;
    this.log.debug({ from, to: epoch, reason }, `turns are stamped with epoch ${epoch}`);
  }
}
