/**
 * The one interface every asset model implements. A model is a pure, deterministic
 * reducer: (state, op, args) -> new state + result. No clocks, no randomness, no I/O,
 * so that the primary, the standby and a log replay reach the same state byte for byte.
 *
 * States are treated as immutable values: `apply` never mutates the state it is given
 * and returns a new one. That lets the node hand out committed states to readers and
 * snapshot writers by reference while later updates are already being applied.
 */

/** Why an update's arguments were refused before anything was applied. */
export interface ArgsProblem {
  code: 'UNKNOWN_OP' | 'BAD_ARGS';
  /** A human sentence naming the field at fault, e.g. "args.amount must be a positive safe integer". */
  message: string;
}

/** The model's verdict on a valid update. */
export type ApplyOutcome<S> =
  | { ok: true; state: S; result: unknown }
  /** A business refusal: logged and deduplicated by the node, state unchanged. */
  | { ok: false; message: string };

export interface Model<S = unknown> {
  /** The name clients use in the `model` field, e.g. "account". */
  readonly name: string;
  /** The state of a freshly created asset, before its creating update is applied. */
  initial(): S;
  /**
   * Checks an update's op and args at the edge, before it is queued. Returns null
   * when `apply` may be called with them, else the problem. Must not depend on the
   * asset's state (that is `apply`'s job, which may REJECT).
   */
  validate(op: string, args: Record<string, unknown> | undefined): ArgsProblem | null;
  /** Applies a validated update. Pure; never throws for validated input. */
  apply(state: S, op: string, args: Record<string, unknown> | undefined): ApplyOutcome<S>;
  /**
   * What readers see of a state (queries, snapshots, digests), for a model that keeps its
   * states in a smaller form than it shows: a node holds a million idle accounts, and a
   * number is 32 bytes and one heap object less than `{ balance }`. Absent: the state itself.
   */
  view?(state: S): unknown;
  /** The state a view stands for (a snapshot's); throws, naming the problem, on a malformed one. */
  fromView?(view: unknown): S;
}

/** What readers see of `state` (see Model.view). */
export function viewOf(model: Model, state: unknown): unknown {
  return model.view === undefined ? state : model.view(state);
}

/** The state `view` stands for (see Model.fromView). */
export function stateOf(model: Model, view: unknown): unknown {
  return model.fromView === undefined ? view : model.fromView(view);
}
