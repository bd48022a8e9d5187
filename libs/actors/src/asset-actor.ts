/**
 * One asset: its model, its applied state and its committed view, and its mailbox.
 * The applied state may run ahead of the committed one (pipelining: the actor applies
 * its next update before the standby confirms the previous one); readers only ever see
 * the committed view, which the reply gate advances.
 */
import type { ErrorReply, UpdateRequest } from '@txtest/protocol';
import type { Model } from '@txtest/models';
import type { DedupeEntry } from './dedupe';
import { Fifo } from './fifo';

/**
 * Where a reply goes: one sink per client message, `index` the entry within a batch.
 * A processed update (ok or REJECTED) is handed over as its dedupe entry, from which
 * the sink encodes the reply directly; a refusal comes as a ready error reply.
 */
export interface ReplySink {
  done(index: number, entry: DedupeEntry): void;
  refused(index: number, reply: ErrorReply): void;
}

/**
 * An update on its way through the node: queued in a mailbox, then (the same object)
 * waiting in the reply gate, so a turn allocates no second holder.
 */
export interface Pending {
  readonly req: UpdateRequest;
  readonly entry: DedupeEntry;
  readonly sink: ReplySink;
  readonly index: number;
  actor: AssetActor;
  seq: number;
  /** The actor's state and version right after this update, for its committed view. */
  state: unknown;
  version: number;
}

export class AssetActor {
  state: unknown;
  version = 0;
  /** Seq of the latest applied update of this asset. */
  seq = 0;
  committedState: unknown;
  committedVersion = 0;
  committedSeq = 0;
  readonly mailbox = new Fifo<Pending>();
  /** Whether the actor is on the scheduler's ready list. */
  scheduled = false;

  constructor(
    readonly asset: string,
    readonly model: Model,
  ) {
    this.state = model.initial();
    this.committedState = this.state;
  }

  /** On followers and in replay, what is applied is committed. */
  commitApplied(): void {
    this.committedState = this.state;
    this.committedVersion = this.version;
    this.committedSeq = this.seq;
  }
}
