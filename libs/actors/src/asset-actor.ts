/**
 * One asset: its model, its applied state and its committed view (its mailbox, while
 * updates queue for it, is the processor's).
 * The applied state may run ahead of the committed one (pipelining: the actor applies
 * its next update before the standby confirms the previous one); readers only ever see
 * the committed view, which the reply gate advances.
 *
 * A node holds a million of these, almost all idle and fully committed, so an actor
 * keeps only what an idle asset needs (docs/ARCHITECTURE.md, "Memory layout"): not even
 * a field for a mailbox (the processor keeps those of the assets with queued updates,
 * by actor), no separate committed fields while the
 * committed view equals the applied state (`ahead === null`), and its model on the
 * prototype of its class rather than in a field.
 */
import type { ErrorReply, UpdateRequest } from '@txtest/protocol';
import type { Model } from '@txtest/models';
import type { DedupeEntry } from './dedupe';
import { ownString } from './own-string';

/**
 * Where a reply goes: one sink per client message, `index` the entry within a batch.
 * A processed update (ok or REJECTED) is handed over as its dedupe entry, from which
 * the sink encodes the reply directly; a refusal comes as a ready error reply.
 */
export interface ReplySink {
  /**
   * The update's outcome: at its release, or at its turn when replies leave from the
   * standby (`Processor.replyOnApply`); `entry.seq` above `committedSeq` tells the two apart.
   */
  done(index: number, entry: DedupeEntry): void;
  refused(index: number, reply: ErrorReply): void;
}

/** What a reader sees of an asset: a state and the version and seq that produced it. */
export interface AssetView {
  readonly state: unknown;
  readonly version: number;
  readonly seq: number;
}

/**
 * An update on its way through the node: queued in a mailbox, then (the same object)
 * waiting in the reply gate, so a turn allocates no second holder. Once released, it
 * may serve as its actor's committed view (state, version and seq right after it).
 */
export interface Pending extends AssetView {
  readonly req: UpdateRequest;
  readonly entry: DedupeEntry;
  readonly sink: ReplySink;
  readonly index: number;
  actor: AssetActor;
  seq: number;
  /** The actor's state and version right after this update, for its committed view. */
  state: unknown;
  version: number;
  /** Its sink heard it at its turn (replies from the standby): the release only commits it. */
  replied: boolean;
}

export class AssetActor implements AssetView {
  state: unknown;
  version = 0;
  /** Seq of the latest applied update of this asset. */
  seq = 0;
  /** The committed view while applied turns await the gate; null when it is the applied state. */
  ahead: AssetView | null = null;

  readonly asset: string;
  /** On the prototype of a class per model (`actorFor`), so a million actors do not each hold it. */
  declare readonly model: Model;

  protected constructor(asset: string, state: unknown) {
    // Kept for the node's lifetime: an own copy, not a view into the message it came in.
    this.asset = ownString(asset);
    this.state = state;
  }

  /** What readers see: the committed view. */
  get committed(): AssetView {
    return this.ahead ?? this;
  }

  /** On followers, in replay, and when a primary steps down: what is applied is committed. */
  commitApplied(): void {
    this.ahead = null;
  }

  /** A new actor of `model`, in its initial state. */
  static create(asset: string, model: Model): AssetActor {
    return new (actorClass(model))(asset, model.initial());
  }
}

type ActorClass = new (asset: string, state: unknown) => AssetActor;
const classes = new Map<Model, ActorClass>();

/** The actor class of one model: AssetActor with `model` on its prototype. */
function actorClass(model: Model): ActorClass {
  let c = classes.get(model);
  if (c === undefined) {
    // A subclass only to reach the protected constructor; the model goes on its prototype.
    c = class extends AssetActor {
      constructor(asset: string, state: unknown) {
        super(asset, state);
      }
    };
    Object.defineProperty(c.prototype, 'model', { value: model });
    classes.set(model, c);
  }
  return c;
}
