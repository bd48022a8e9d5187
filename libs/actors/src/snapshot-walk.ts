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
import { viewOf, type Model } from '@txtest/models';
import type { MsgWriter } from '@txtest/protocol';
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
  /** The same assets written into `w` as one MessagePack array; returns how many (0 once all are read). */
  packAssets(max: number, w: MsgWriter): number;
  /** How many remembered ids the snapshot holds. */
  readonly dedupeCount: number;
  /** Up to `max` more of them; empty once all are read. */
  nextDedupe(max: number): SnapshotDedupe[];
  /** The same rows written into `w` as one MessagePack array; returns how many (0 once all are read). */
  packDedupe(max: number, w: MsgWriter): number;
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

  packDedupe(max: number, w: MsgWriter): number {
    this.check();
    return this.dedupe.packNext(max, w);
  }

  nextAssets(max: number): SnapshotAsset[] {
    const out: SnapshotAsset[] = [];
    this.eachAsset(max, (row, model, version, seq, state) => void out.push([this.assets.name(row), model.name, version, seq, viewOf(model, state)]));
    return out;
  }

  /** The same assets written into `w` as one MessagePack array (its length filled in last); returns how many. */
  packAssets(max: number, w: MsgWriter): number {
    const at = w.reserve(5);
    const n = this.eachAsset(max, (row, model, version, seq, state) => {
      w.arrayHeader(5);
      this.assets.packName(row, w);
      w.str(model.name);
      w.num(version);
      w.num(seq);
      w.value(viewOf(model, state));
    });
    const head = w.pending();
    head[at] = 0xdd; // array 32
    new DataView(head.buffer, head.byteOffset + at + 1, 4).setUint32(0, n);
    return n;
  }

  /** Visits up to `max` more assets that existed at `seq`, as they were then; returns how many. */
  private eachAsset(max: number, visit: (row: number, model: Model, version: number, seq: number, state: unknown) => void): number {
    this.check();
    const a = this.assets;
    let n = 0;
    for (; this.next < this.end_ && n < max; this.next++) {
      const row = this.next;
      const c = this.kept.get(row);
      if (c !== undefined) this.kept.delete(row);
      const version = c?.version ?? a.version(row);
      // Version 0: the asset did not exist yet at `seq` (created later, or only refused so far).
      if (version === 0) continue;
      visit(row, a.model(row)!, version, c?.seq ?? a.seq(row), c === undefined ? a.state(row) : c.state);
      n++;
    }
    return n;
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
