/**
 * `account`: a balance in integer minor units that never goes negative.
 *
 * This is the hot path of the server, so `apply` allocates only the new state and the
 * outcome wrapper: the state object doubles as the result, which is safe because states
 * are immutable values and `{ balance }` is exactly the result's shape.
 */
import { NO_ARGS, badArgs, isPositiveSafeInt, unknownOp } from './checks';
import type { ApplyOutcome, ArgsProblem, Model } from './model';

export type AccountState = { readonly balance: number };

/** Returned as `result` by both ops. */
export type AccountResult = AccountState;

const NAME = 'account';

function validate(op: string, args: Record<string, unknown> | undefined): ArgsProblem | null {
  if (op !== 'credit' && op !== 'debit') return unknownOp(NAME, op);
  if (!isPositiveSafeInt((args ?? NO_ARGS).amount)) return badArgs('args.amount must be a positive safe integer');
  return null;
}

function apply(state: AccountState, op: string, args: Record<string, unknown> | undefined): ApplyOutcome<AccountState> {
  // Re-checked here (two comparisons) so an unvalidated call is refused instead of
  // corrupting the balance, e.g. by string concatenation.
  const problem = validate(op, args);
  if (problem) return { ok: false, message: problem.message };
  const amount = (args as Record<string, number>).amount;
  const balance = state.balance;
  if (op === 'credit') {
    // Compared as a difference: the sum itself may already be past the safe range and rounded.
    if (amount > Number.MAX_SAFE_INTEGER - balance) {
      return { ok: false, message: `credit of ${amount} would take the balance ${balance} past ${Number.MAX_SAFE_INTEGER}` };
    }
    const next: AccountState = { balance: balance + amount };
    return { ok: true, state: next, result: next };
  }
  if (amount > balance) {
    return { ok: false, message: `insufficient funds: balance ${balance} is less than debit ${amount}` };
  }
  const next: AccountState = { balance: balance - amount };
  return { ok: true, state: next, result: next };
}

export const accountModel: Model<AccountState> = {
  name: NAME,
  initial: () => ({ balance: 0 }),
  validate,
  apply,
};
