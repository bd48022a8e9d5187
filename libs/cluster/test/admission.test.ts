/**
 * Admission: the processor's `accepting` and `epoch` change only here, each change logged
 * once with its reason, and a refused update says NOT_PRIMARY.
 */
import { describe, expect, it } from 'vitest';
import { Processor, type ReplySink } from '@txtest/actors';
import { getModel } from '@txtest/models';
import type { UpdateReply } from '@txtest/protocol';
import { Admission } from '../src/serving/admission';
import { lineLogger, ManualClock } from './helpers/manual-clock';

function harness() {
  const p = new Processor({ clock: new ManualClock(), defer: () => undefined, getModel, onRecord: () => undefined, onEvent: () => undefined });
  const lines: string[] = [];
  return { p, lines, a: new Admission(p, lineLogger(lines)) };
}

describe('admission', () => {
  it('changes accepting with a reason, logging only real changes', () => {
    const h = harness();
    h.a.setAccepting(true, 'went solo');
    h.a.setAccepting(true, 'again');
    h.a.setAccepting(false, 'fenced by a newer epoch');
    expect(h.p.accepting).toBe(false);
    expect(h.lines).toEqual([
      'debug admitting updates {"accepting":true,"reason":"went solo"}',
      'debug refusing updates {"accepting":false,"reason":"fenced by a newer epoch"}',
    ]);
  });

  it('a node that refuses answers NOT_PRIMARY', () => {
    const h = harness();
    const replies: UpdateReply[] = [];
    const sink: ReplySink = { done: () => undefined, refused: (_i, r) => void replies.push(r) };
    h.p.submit({ id: 'x', asset: 'a', op: 'credit', args: { amount: 1 }, model: 'account' }, sink, 0);
    expect(replies[0]).toMatchObject({ ok: false, error: { code: 'NOT_PRIMARY' } });
  });

  it('stamps turns with a new epoch, logging the change and its reason', () => {
    const h = harness();
    h.a.setEpoch(4, 'opened a new epoch');
    h.a.setEpoch(4, 'again');
    expect(h.p.epoch).toBe(4);
    expect(h.lines).toEqual(['debug turns are stamped with epoch 4 {"from":0,"to":4,"reason":"opened a new epoch"}']);
  });
});
