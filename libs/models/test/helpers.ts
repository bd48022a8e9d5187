import { expect } from 'vitest';
import type { ApplyOutcome, Model } from '../src/index';

/** Freezes a value and everything reachable from it, so any mutation by `apply` throws (ESM is strict mode). */
export function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

/** Applies and asserts the update was accepted; the input state is frozen first. */
export function applyOk<S>(model: Model<S>, state: S, op: string, args?: Record<string, unknown>) {
  expect(model.validate(op, args)).toBeNull();
  const out = model.apply(deepFreeze(state), op, args);
  if (!out.ok) throw new Error(`expected ok, got rejection: ${out.message}`);
  return out;
}

/** Applies and asserts a business refusal; returns the message. */
export function applyRejected<S>(model: Model<S>, state: S, op: string, args?: Record<string, unknown>): string {
  expect(model.validate(op, args)).toBeNull();
  const out: ApplyOutcome<S> = model.apply(deepFreeze(state), op, args);
  if (out.ok) throw new Error(`expected a rejection, got ok: ${JSON.stringify(out.result)}`);
  expect(out.message).toEqual(expect.any(String));
  expect(out.message.length).toBeGreaterThan(0);
  return out.message;
}
