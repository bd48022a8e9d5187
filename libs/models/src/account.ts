/**
 * `account`: a balance in integer minor units that never goes negative.
 *
 * The state kept is the balance itself, a number: readers see `{ balance }` (its view),
 * which is also the result of both ops. This is the hot path of the server, so `apply`
 * allocates only the result and the outcome wrapper, and an idle account holds no
 * state object at all.
 */
import { NO_ARGS, badArgs, isPositiveSafeInt, unknownOp } from './checks';
import type { ApplyOutcome, ArgsProblem, Model } from './model';

/** The balance, as the node keeps it. */
export type AccountState = number;

/** What queries, snapshots and digests show of an account. */
export type AccountView = { readonly balance: number };

/** Returned as `result` by both ops. */
export type AccountResult = AccountView;

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
  const balance = state;
  if (op === 'credit') {
    // Compared as a difference: the sum itself may already be past the safe range and rounded.
    if (amount > Number.MAX_SAFE_INTEGER - balance) {
      return { ok: false, message: `credit of ${amount} would take the balance ${balance} past ${Number.MAX_SAFE_INTEGER}` };
    }
    const next = balance + amount;
    return { ok: true, state: next, result: { balance: next } };
  }
  if (amount > balance) {
    return { ok: false, message: `insufficient funds: balance ${balance} is less than debit ${amount}` };
  }
  const next = balance - amount;
  return { ok: true, state: next, result: { balance: next } };
}

export const accountModel: Model<AccountState> = {
  name: NAME,
  initial: () => 0,
  validate,
  apply,
  view: (balance) => ({ balance }),
  fromView(view) {
    const balance = (view as Partial<AccountView> | null)?.balance;
    if (typeof view !== 'object' || view === null || typeof balance !== 'number' || !Number.isSafeInteger(balance) || balance < 0) {
      throw new Error(`an account state must be { balance: a non-negative safe integer }, got ${JSON.stringify(view)}`);
    }
    return balance;
  },
};
