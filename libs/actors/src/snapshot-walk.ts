/**
 * A snapshot taken a slice at a time. At `begin` it fixes the seq (the committed
 * watermark); the assets, then the remembered ids up to that seq (DedupeTable.rowsUpTo),
 * are read in slices between which the node keeps serving, so a million assets and a
 * million ids never mean one long synchronous loop.
 *
 * The committed view keeps moving while the walk goes on. The processor therefore
 * reports every asset row whose committed view is about to change (`keep`): the first
 * time during a walk, the walk keeps the view as it was (states are immutable values,
 * so a reference is enough). Reading a row, the walk prefers that kept view. The kept
 * views are bounded by the assets touched during the walk, not by the node's size.
 * Rows added after the walk began are not read: their assets did not exist at `seq`.
 */
import { viewOf } from '@txtest/models';
import type { AssetView } from './asset-actor';
import type { AssetStore } from './asset-store';
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
  private readonly kept = new Map<number, AssetView>();
  /** The next row to read, and the end of the rows that existed when the walk began. */
  private next = 0;
  private readonly end_: number;
  private ended = false;

  constructor(
    readonly seq: number,
    readonly epoch: number,
    private readonly assets: AssetStore,
    private readonly dedupe: DedupeRows,
    private readonly onEnd: (walk: SnapshotWalk) => void,
    /** Throws when the processor's state was replaced under the walk. */
    private readonly check: () => void,
  ) {
    this.end_ = assets.rows;
  }

  /** Called before the committed view of the asset in `row` changes. */
  keep(row: number): void {
    if (row < this.next || row >= this.end_ || this.kept.has(row)) return;
    const a = this.assets;
    this.kept.set(row, { state: a.state(row), version: a.version(row), seq: a.seq(row) });
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
    const a = this.assets;
    for (; this.next < this.end_ && out.length < max; this.next++) {
      const row = this.next;
      const c = this.kept.get(row);
      if (c !== undefined) this.kept.delete(row);
      const version = c?.version ?? a.version(row);
      // Version 0: the asset did not exist yet at `seq` (created later, or only refused so far).
      if (version === 0) continue;
      const model = a.model(row)!;
      out.push([a.name(row), model.name, version, c?.seq ?? a.seq(row), viewOf(model, c === undefined ? a.state(row) : c.state)]);
    }
    return out;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.next = this.end_;
    this.kept.clear();
    this.dedupe.end();
    this.onEnd(this);
  }
}
