/**
 * A snapshot taken a slice at a time. At `begin` it fixes the seq (the committed
 * watermark); the assets, then the remembered ids up to that seq (DedupeTable.rowsUpTo),
 * are read in slices between which the node keeps serving, so a million assets and a
 * million ids never mean one long synchronous loop.
 *
 * The committed view keeps moving while the walk goes on. The processor therefore
 * reports every actor whose committed view is about to change (`keep`): the first time
 * during a walk, the walk keeps the view as it was (states are immutable values, so a
 * reference is enough). Reading an actor, the walk prefers that kept view. The kept
 * views are bounded by the assets touched during the walk, not by the node's size.
 */
import { viewOf } from '@txtest/models';
import type { AssetActor, AssetView } from './asset-actor';
import type { DedupeRows } from './dedupe';

/** [asset, model, version, seq, state] */
export type SnapshotAsset = [string, string, number, number, unknown];
/** [id, asset, op, args, seq, ts, epoch, version, ok, result-or-message] */
export type SnapshotDedupe = [string, string, string, Record<string, unknown> | null, number, number, number, number, boolean, unknown];

/** What the encoder reads: header fields, the assets in slices, then the remembered ids. */
export interface SnapshotSource {
  readonly seq: number;
  readonly epoch: number;
  /** Up to `max` more assets; empty once all are read. */
  nextAssets(max: number): SnapshotAsset[];
  /** How many remembered ids the snapshot holds. */
  readonly dedupeCount: number;
  /** Up to `max` more of them; empty once all are read. */
  nextDedupe(max: number): SnapshotDedupe[];
  /** Stops following changes (the walk's end, or its abandonment). */
  end(): void;
}

export class SnapshotWalk implements SnapshotSource {
  private readonly kept = new Map<AssetActor, AssetView>();
  /** All assets read. */
  private done = false;
  private ended = false;

  constructor(
    readonly seq: number,
    readonly epoch: number,
    private readonly actors: Iterator<AssetActor>,
    private readonly dedupe: DedupeRows,
    private readonly onEnd: (walk: SnapshotWalk) => void,
    /** Throws when the processor's state was replaced under the walk. */
    private readonly check: () => void,
  ) {}

  /** Called before `actor`'s committed view changes. */
  keep(actor: AssetActor): void {
    if (this.kept.has(actor)) return;
    const c = actor.committed;
    // An actor that is its own view is about to change in place: copy its three fields.
    this.kept.set(actor, c === actor ? { state: actor.state, version: actor.version, seq: actor.seq } : c);
  }

  get dedupeCount(): number {
    return this.dedupe.count;
  }

  nextDedupe(max: number): SnapshotDedupe[] {
    this.check();
    return this.dedupe.take(max);
  }

  nextAssets(max: number): SnapshotAsset[] {
    this.check();
    const out: SnapshotAsset[] = [];
    while (!this.done && out.length < max) {
      const r = this.actors.next();
      if (r.done === true) {
        this.done = true;
        break;
      }
      const a = r.value;
      const c = this.kept.get(a) ?? a.committed;
      // Version 0: the asset did not exist yet at `seq` (created later, or only refused so far).
      if (c.version > 0) out.push([a.asset, a.model.name, c.version, c.seq, viewOf(a.model, c.state)]);
    }
    return out;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.done = true;
    this.kept.clear();
    this.dedupe.end();
    this.onEnd(this);
  }
}
