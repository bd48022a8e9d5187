/**
 * The client subscriptions of a serving node: a node that begins to serve alone (a
 * failover) puts `queueMembers` members in each client subject's queue group, so that a
 * dead predecessor's lingering connection takes a small share of the retries; once a
 * standby attaches it drains all but one (requests already routed to them are still
 * served), so the primary that may die next has one; leaving the serving roles closes all.
 */
import { describe, expect, it } from 'vitest';
import { Processor } from '@txtest/actors';
import { getModel } from '@txtest/models';
import { subjects, UNSHARDED } from '@txtest/protocol';
import { Admission } from '../src/serving/admission';
import { ClientDoor } from '../src/serving/client-door';
import { ReplyGate } from '../src/serving/reply-gate';
import { Serving } from '../src/serving/serving';
import type { MessageHandler, Subscription, Transport } from '../src/transport';
import { lineLogger, ManualClock } from './helpers/manual-clock';

type SubState = 'open' | 'drained' | 'unsubscribed';

/** Records every subscription a part makes, with its queue group and how it ended. */
class RecordingTransport {
  readonly subs: { subject: string; queue: string | undefined; state: SubState }[] = [];

  subscribe(subject: string, _handler: MessageHandler, opts: { queue?: string } = {}): Subscription {
    const rec = { subject, queue: opts.queue, state: 'open' as SubState };
    this.subs.push(rec);
    return { unsubscribe: () => void (rec.state = 'unsubscribed'), drain: () => void (rec.state = 'drained') };
  }

  publish(): void {}

  /** Open members in the queue group of `subject`. */
  open(subject: string): number {
    return this.subs.filter((s) => s.subject === subject && s.state === 'open' && s.queue === 'txtest').length;
  }

  count(state: SubState): number {
    return this.subs.filter((s) => s.state === state).length;
  }
}

function harness(queueMembers: number) {
  const log = lineLogger([]);
  const processor = new Processor({ clock: new ManualClock(), defer: () => undefined, getModel, onRecord: () => undefined, onEvent: () => undefined });
  const bus = new RecordingTransport();
  const transport = bus as unknown as Transport;
  const gate = new ReplyGate({
    processor,
    log,
    localMark: () => 0,
    standbyAck: () => 0,
    catchUpCap: () => Infinity,
    waitsForStandby: true,
    repliesFromStandby: false,
  });
  const serving = new Serving({
    transport,
    subjects: subjects(),
    queueMembers,
    processor,
    door: new ClientDoor(processor, transport, 64 * 1024, () => false, UNSHARDED),
    gate,
    admission: new Admission(processor, log),
    epoch: () => 1,
    failed: () => false,
  });
  return { bus, serving, s: subjects() };
}

describe('Serving: queue members', () => {
  it('brings its members when it begins to serve alone, and drains all but one when a standby attaches', () => {
    const { bus, serving, s } = harness(16);
    serving.serve('local', 'solo');
    expect(bus.open(s.tx)).toBe(16);
    expect(bus.open(s.query)).toBe(16);
    serving.serve('standby', 'standby attached');
    expect(bus.open(s.tx)).toBe(1);
    expect(bus.open(s.query)).toBe(1);
    expect(bus.count('drained')).toBe(30);
    expect(bus.count('unsubscribed')).toBe(0);
    // Losing the standby again changes nothing: this primary keeps its one member.
    serving.serve('local', 'standby lost');
    expect(bus.open(s.tx)).toBe(1);
    serving.unserve('fenced');
    expect(bus.open(s.tx) + bus.open(s.query)).toBe(0);
    expect(bus.count('unsubscribed')).toBe(2);
  });

  it('starts with one member when it serves with a standby from the start (a switchover)', () => {
    const { bus, serving, s } = harness(16);
    serving.serve('standby', 'switchover abandoned');
    expect(bus.open(s.tx)).toBe(1);
    expect(bus.open(s.query)).toBe(1);
  });
});
