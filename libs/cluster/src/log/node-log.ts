/**
 * The log room as the node sees it: the writer wiring, the snapshotter and the state
 * loader built together (they share the processor and the pause), and the recovery a
 * start begins with.
 */
import type { Processor } from '@txtest/actors';
import { recover } from '@txtest/journal';
import type { MsgWriter } from '@txtest/protocol';
import type { ResolvedOptions } from '../node/options';
import { LogWiring } from './log-wiring';
import { Snapshotter } from './snapshotter';
import { StateLoader } from './state-loader';

export interface NodeLogDeps {
  o: ResolvedOptions;
  processor: Processor;
  /** The records' writer. */
  w: MsgWriter;
  /** Gives the event loop a turn between slices. */
  pause(): Promise<void>;
  /** The reply gate's watermark may have moved. */
  release(): void;
  onSynced(seq: number): void;
  onOpened(lastSeq: number): void;
  /** The oldest seq a running catch-up still reads from the log. */
  pinnedSeq(): number | null;
  fail(err: unknown): void;
  snapshotFailed(err: Error): void;
}

export class NodeLog {
  readonly wiring: LogWiring;
  readonly snapshotter: Snapshotter;
  readonly loader: StateLoader;
  /** Where each epoch began by the records the start's recovery scanned (`Recovery.epochStarts`). */
  epochStarts: [epoch: number, firstSeq: number][] = [];

  constructor(private readonly d: NodeLogDeps) {
    const { o, processor } = d;
    this.wiring = new LogWiring({
      storage: o.logStorage,
      clock: o.clock,
      fsync: o.fsync,
      segmentBytesMax: o.segmentBytesMax,
      w: d.w,
      release: d.release,
      afterWritten: () => this.snapshotter.maybeSnapshot(),
      onSynced: d.onSynced,
      onOpened: d.onOpened,
      fail: d.fail,
    });
    this.snapshotter = new Snapshotter({
      processor,
      storage: o.logStorage,
      clock: o.clock,
      log: o.log,
      everyRecords: o.snapshotEveryRecords,
      pause: d.pause,
      writtenSeq: () => this.wiring.writtenSeq,
      pinnedSeq: d.pinnedSeq,
      onFailed: d.snapshotFailed,
    });
    this.loader = new StateLoader({
      processor,
      clock: o.clock,
      snapshotter: this.snapshotter,
      pause: d.pause,
      onApplied: o.onApplied,
      onSnapshotInstalled: o.onSnapshotInstalled,
    });
  }

  /** A start's recovery: the newest snapshot and the log after it into the processor, then a writer on the log. */
  async recover(): Promise<void> {
    const { o, processor: p } = this.d;
    const lastEpoch = await this.load();
    // The unpacked rows are a million objects at a million ids: packed before the node
    // takes a role, they are garbage by the time onRecovered collects.
    await this.loader.packed();
    o.onRecovered?.();
    this.wiring.open(p.lastSeq, lastEpoch);
  }

  /**
   * The recovery's reads into the processor; returns the epoch of the log's end. The
   * recovery (with the snapshot's whole body, a hundred MiB at a million accounts) is
   * unreachable once this returns, so the collection onRecovered makes frees it: left
   * to a later one, an idle node kept it for minutes.
   */
  private async load(): Promise<number> {
    const { o, processor: p } = this.d;
    const t0 = o.clock.now();
    const rec = await recover(o.logStorage, { repair: o.repairLog, warn: (msg) => o.log.warn({}, msg) });
    this.epochStarts = rec.epochStarts;
    const replayed = await this.loader.rebuild(rec);
    o.log.info(
      { snapshotSeq: this.snapshotter.lastSnapshotSeq, replayed, lastSeq: p.lastSeq, assets: p.assetCount, ms: o.clock.now() - t0 },
      'recovered from the log',
    );
    return rec.lastEpoch;
  }
}
