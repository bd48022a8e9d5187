/**
 * Fills the processor from the journal: a recovery's snapshot and the log after it (at
 * start, after a rollback), or a snapshot file the primary sent. Loads leave remembered
 * ids unpacked (DedupeTable.packLater: a load is a pause the node waits for, and packing
 * would lengthen it); they are packed a slice per timer tick while the node serves.
 */
import { decodeRecord, releaseDecodedBuffers } from '@txtest/protocol';
import { loadSnapshotSliced, type Clock, type Processor } from '@txtest/actors';
import type { Recovery } from '@txtest/journal';
import type { Snapshotter } from './snapshotter';

/** Remembered entries packed per timer tick after a recovery (about 10 ms of work here). */
const PACK_SLICE_ENTRIES = 20_000;

export interface StateLoaderDeps {
  processor: Processor;
  clock: Clock;
  snapshotter: Snapshotter;
  /** Gives the event loop a turn between slices. */
  pause(): Promise<void>;
  onApplied?: (seq: number, id: string, epoch: number) => void;
  onSnapshotInstalled?: (seq: number) => void;
}

export class StateLoader {
  /** The packing of a load's backlog, while it runs. */
  private packing: Promise<void> | null = null;

  constructor(private readonly d: StateLoaderDeps) {}

  /**
   * Replaces the state with a recovery's: its snapshot, then the log after it, both a
   * slice per timer tick (a rollback rebuilds while the primary waits for this node, and
   * replaying half a million records in one go stalled its heartbeats for seconds).
   */
  rebuild(rec: Recovery): Promise<number> {
    const { d } = this;
    return this.loadUnpacked(async () => {
      if (rec.snapshot !== null) await loadSnapshotSliced(d.processor, rec.snapshot.body, d.pause);
      else d.processor.reset();
      d.onSnapshotInstalled?.(d.processor.lastSeq);
      d.snapshotter.lastSnapshotSeq = rec.snapshot?.seq ?? 0;
      return rec.replay(d.processor.lastSeq + 1, (epoch, seq, payload) => this.apply(epoch, seq, payload), d.pause);
    });
  }

  /** Replaces the state with a snapshot body (the primary's, installed); returns what it held. */
  install(body: Uint8Array): Promise<{ assets: number }> {
    const { d } = this;
    return this.loadUnpacked(async () => {
      const loaded = await loadSnapshotSliced(d.processor, body, d.pause);
      d.onSnapshotInstalled?.(d.processor.lastSeq);
      return loaded;
    });
  }

  /** A record from the log or the primary, reported to the observer. */
  apply(epoch: number, seq: number, payload: Uint8Array): void {
    this.d.processor.applyRecord(epoch, seq, payload);
    // Decoded again only for an observer (the simulator); a serving node has none.
    this.d.onApplied?.(seq, decodeRecord(payload).id, epoch);
  }

  private async loadUnpacked<T>(fill: () => Promise<T>): Promise<T> {
    this.d.processor.packLater = true;
    const out = await fill();
    releaseDecodedBuffers();
    this.d.processor.packLater = false;
    this.packBacklog();
    return out;
  }

  /** Packs, a slice per timer tick, the remembered entries a load left unpacked. */
  private packBacklog(): void {
    if (this.packing !== null) return;
    const { processor, clock } = this.d;
    this.packing = new Promise<void>((done) => {
      const step = () => {
        if (processor.packSome(PACK_SLICE_ENTRIES)) return void clock.setTimeout(step, 0);
        this.packing = null;
        done();
      };
      clock.setTimeout(step, 0);
    });
  }

  /** Resolves once no remembered entry is left unpacked. */
  packed(): Promise<void> {
    return this.packing ?? Promise.resolve();
  }
}
