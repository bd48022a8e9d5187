/**
 * Small argument checks shared by the models. They live in one place so every model
 * words its refusals the same way, which is what clients and tests match on.
 */
import type { ArgsProblem } from './model';

/** True for integers a double represents exactly; anything else would make balances drift. */
export function isSafeInt(n: unknown): n is number {
  return Number.isSafeInteger(n);
}

/** True for safe integers > 0: amounts, prices and quantities are counted in whole minor units. */
export function isPositiveSafeInt(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) > 0;
}

/**
 * Stands in for missing args so `validate` can read fields without a branch per field
 * and without allocating on the hot path. Frozen because it is shared.
 */
export const NO_ARGS: Readonly<Record<string, unknown>> = Object.freeze({});

export function unknownOp(model: string, op: string): ArgsProblem {
  // JSON.stringify so an op containing quotes or control characters cannot garble the sentence.
  return { code: 'UNKNOWN_OP', message: `model "${model}" has no op ${JSON.stringify(String(op))}` };
}

export function badArgs(message: string): ArgsProblem {
  return { code: 'BAD_ARGS', message };
}
