/**
 * An asset's actor: its applied state and its mailbox, while it has work. A node holds
 * a million assets, almost all idle and fully committed; an idle asset is only a row of
 * the asset store (asset-store.ts), which also holds every asset's committed view. The
 * processor makes an actor from the row when an update arrives for it and drops it
 * once its mailbox is empty and its last turn has left the gate, so the actors alive
 * are bounded by the updates in flight (docs/ARCHITECTURE.md, "Memory layout").
 * The applied state may run ahead of the committed one (pipelining: the actor applies
 * its next update before the standby confirms the previous one); readers only ever see
 * the committed view, which the reply gate writes to the row at each release.
 */
import type { ErrorReply, UpdateRequest } from '@txtest/protocol';
import type { Model } from '@txtest/models';
import type { DedupeEntry } from './dedupe';
import type { Fifo } from './fifo';

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
 * waiting in the reply gate, so a turn allocates no second holder. Its release writes
 * its state, version and seq to the asset's row: the committed view.
 */
export interface Pending extends AssetView {
  readonly req: UpdateRequest;
  readonly entry: DedupeEntry;
  readonly sink: ReplySink;
  readonly index: number;
  actor: AssetActor;
  seq: number;
  /** The asset's state and version right after this update. */
  state: unknown;
  version: number;
  /** Its sink heard it at its turn (replies from the standby): the release only commits it. */
  replied: boolean;
}

export class AssetActor implements AssetView {
  /** Updates waiting for a turn; null once they all had one. */
  mailbox: Fifo<Pending> | null = null;
  /** Its turns still in the gate (not yet released). */
  turns = 0;

  constructor(
    /** Its row in the asset store. */
    readonly row: number,
    readonly model: Model,
    /** The applied state, version and seq (of the latest applied update of the asset). */
    public state: unknown,
    public version: number,
    public seq: number,
  ) {}
}
