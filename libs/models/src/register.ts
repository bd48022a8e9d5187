/**
 * `register`: a single JSON-like value with blind `set` and compare-and-set `cas`.
 *
 * The stored value is the request's own decoded `args.value`, kept by reference rather
 * than cloned: states are immutable, and the node owns the decoded args, so a copy would
 * only cost time. Key order is kept as received, which is deterministic because primary,
 * standby and replay all decode the same logged bytes.
 */
import { NO_ARGS, badArgs, unknownOp } from './checks';
import { jsonEqual, jsonProblem } from './json';
import type { ApplyOutcome, ArgsProblem, Model } from './model';

export type RegisterState = { readonly value: unknown };

/** Returned as `result` by both ops: the value after the update. */
export type RegisterResult = RegisterState;

const NAME = 'register';

/** `undefined` is checked separately so a missing field reads as "required", not as a type error. */
function fieldProblem(args: Record<string, unknown>, field: 'value' | 'expect'): ArgsProblem | null {
  const v = args[field];
  if (v === undefined) return badArgs(`args.${field} is required (use null for "no value")`);
  const problem = jsonProblem(v, `args.${field}`);
  return problem === null ? null : badArgs(problem);
}

function validate(op: string, args: Record<string, unknown> | undefined): ArgsProblem | null {
  const a = args ?? NO_ARGS;
  switch (op) {
    case 'set':
      return fieldProblem(a, 'value');
    case 'cas':
      return fieldProblem(a, 'expect') ?? fieldProblem(a, 'value');
    default:
      return unknownOp(NAME, op);
  }
}

function apply(state: RegisterState, op: string, args: Record<string, unknown> | undefined): ApplyOutcome<RegisterState> {
  // Only the op is re-checked: walking the whole value again would double the cost of
  // every update, and the deep check is `validate`'s job, done once at the edge.
  if (op !== 'set' && op !== 'cas') return { ok: false, message: unknownOp(NAME, op).message };
  const a = args ?? NO_ARGS;
  if (a.value === undefined) return { ok: false, message: 'args.value is required' };
  if (op === 'cas' && !jsonEqual(state.value, a.expect)) {
    return { ok: false, message: 'cas failed: the current value does not equal args.expect' };
  }
  // The state doubles as the result: same shape, and immutable.
  const next: RegisterState = { value: a.value };
  return { ok: true, state: next, result: next };
}

export const registerModel: Model<RegisterState> = {
  name: NAME,
  initial: () => ({ value: null }),
  validate,
  apply,
};
