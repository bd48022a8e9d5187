/**
 * The reply gate on a real processor: which watermark releases replies in each mode, the
 * test-only fault that drops the standby from it, and the log line of a mode change.
 */
import { describe, expect, it } from 'vitest';
import { Processor, replyOf, type ReplySink } from '@txtest/actors';
import { getModel } from '@txtest/models';
import { ReplyGate, type GateMode } from '../src/serving/reply-gate';
import { lineLogger, ManualClock } from './helpers/manual-clock';

function harness(waitsForStandby = true, repliesFromStandby = false) {
  const deferred: (() => void)[] = [];
  const p = new Processor({ clock: new ManualClock(), defer: (fn) => deferred.push(fn), getModel, onRecord: () => undefined, onEvent: () => undefined });
  p.accepting = true;
  p.epoch = 1;
  const replied: string[] = [];
  const sink: ReplySink = { done: (_i, e) => void replied.push((replyOf(e) as { id: string }).id), refused: () => undefined };
  const marks = { local: 0, standby: 0, cap: Number.POSITIVE_INFINITY };
  const lines: string[] = [];
  const gate = new ReplyGate({
    processor: p,
    log: lineLogger(lines),
    localMark: () => marks.local,
    standbyAck: () => marks.standby,
    catchUpCap: () => marks.cap,
    waitsForStandby,
    repliesFromStandby,
  });
  /** Submits `n` updates and lets them take their turns (seqs 1..n). */
  const submit = (n: number) => {
    for (let i = 1; i <= n; i++) p.submit({ id: `u${i}`, asset: `a${i}`, op: 'credit', args: { amount: 1 }, model: 'account' }, sink, 0);
    while (deferred.length > 0) deferred.shift()!();
  };
  const at = (mode: GateMode, local: number, standby: number) => {
    gate.setMode(mode, 'test');
    marks.local = local;
    marks.standby = standby;
    gate.release();
  };
  return { gate, replied, lines, submit, at, p, marks };
}

describe('reply gate', () => {
  it('releases nothing while it holds', () => {
    const h = harness();
    h.submit(3);
    h.at('hold', 3, 3);
    expect(h.replied).toEqual([]);
  });

  it('calls a waiter once, from the release that commits its seq (the takeover log line)', () => {
    const h = harness();
    h.submit(3);
    let calls = 0;
    h.gate.whenReleased(3, () => calls++);
    h.at('local', 2, 0);
    expect(calls).toBe(0);
    h.at('local', 3, 0);
    expect(calls).toBe(1);
    h.submit(1);
    h.at('local', 4, 0);
    expect(calls).toBe(1);
  });

  it('solo: releases up to the local log', () => {
    const h = harness();
    h.submit(3);
    h.at('local', 2, 0);
    expect(h.replied).toEqual(['u1', 'u2']);
  });

  it('solo with a joiner taking the tail: releases no further than the catch-up cap, the rest once it is lifted', () => {
    const h = harness();
    h.submit(4);
    h.marks.cap = 2;
    h.at('local', 4, 0);
    expect(h.replied).toEqual(['u1', 'u2']);
    h.marks.cap = Number.POSITIVE_INFINITY;
    h.gate.release();
    expect(h.replied).toEqual(['u1', 'u2', 'u3', 'u4']);
  });

  it("with a standby: releases up to the lower of the local log and the standby's ack", () => {
    const h = harness();
    h.submit(4);
    h.at('standby', 3, 1);
    expect(h.replied).toEqual(['u1']);
    h.at('standby', 2, 4);
    expect(h.replied).toEqual(['u1', 'u2']);
  });

  it('under reply-before-standby-ack, a primary releases on its local log alone', () => {
    const h = harness(false);
    h.submit(3);
    h.at('standby', 3, 0);
    expect(h.replied).toEqual(['u1', 'u2', 'u3']);
  });

  it('with replies from the standby: each outcome goes out at its turn while a standby is attached, and once only', () => {
    const h = harness(true, true);
    h.gate.setMode('standby', 'standby attached');
    expect(h.p.replyOnApply).toBe(true);
    h.submit(2);
    expect(h.replied).toEqual(['u1', 'u2']);
    h.at('standby', 2, 2);
    expect(h.replied).toEqual(['u1', 'u2']);
    expect(h.p.committedSeq).toBe(2);
    // Solo again: the primary's own release answers.
    h.gate.setMode('local', 'went solo');
    expect(h.p.replyOnApply).toBe(false);
  });

  it('without --reply-from standby the gate never asks for replies at the turn', () => {
    const h = harness(true, false);
    h.gate.setMode('standby', 'standby attached');
    expect(h.p.replyOnApply).toBe(false);
    h.submit(1);
    expect(h.replied).toEqual([]);
  });

  it('logs each change of mode once, with its reason, at info', () => {
    const h = harness();
    h.gate.setMode('local', 'went solo');
    h.gate.setMode('local', 'again');
    h.gate.setMode('hold', 'left solo');
    expect(h.gate.mode).toBe('hold');
    expect(h.lines).toEqual([
      'info reply gate: hold -> local {"from":"hold","to":"local","reason":"went solo"}',
      'info reply gate: local -> hold {"from":"local","to":"hold","reason":"left solo"}',
    ]);
  });
});
