/**
 * Snapshot files: background snapshots every `everyRecords` records, and the ones a
 * joiner needs. Files are written one at a time (they share the part file), and a
 * sync's rollback or install waits for them (`settled`: one would write a stale file).
 */
import { encodeSnapshotTo, SNAPSHOT_BODY_HEADER_BYTES, type Clock, type Processor } from '@txtest/actors';
import { compact, SnapshotFileWriter, type LogStorage } from '@txtest/journal';
import type { Logger } from '../transport';

export interface SnapshotterDeps {
  processor: Processor;
  storage: LogStorage;
  clock: Clock;
  log: Logger;
  /** Records between background snapshots; 0 turns them off. */
  everyRecords: number;
  /** Gives the event loop a turn between chunks. */
  pause(): Promise<void>;
  /** How far the log is written (a snapshot's seq must be in the log already). */
  writtenSeq(): number;
  /** The oldest seq a running catch-up still reads from the log (compaction keeps it). */
  pinnedSeq(): number | null;
  /** A background snapshot failed (logged, reported; the log still holds everything). */
  onFailed(err: Error): void;
}

export class Snapshotter {
  /** The seq of the newest snapshot this node holds (loaded, installed or written). */
  lastSnapshotSeq = 0;
  /** When the last snapshot this process wrote was done, and how long it took (ms); null before one. */
  lastWrittenAt: number | null = null;
  lastWriteMs: number | null = null;
  private snapshotting = false;
  /** The last snapshot file queued. */
  private run: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: SnapshotterDeps) {}

  /** Resolves once no snapshot file queued so far is being written. */
  settled(): Promise<unknown> {
    return this.run;
  }

  /** Starts a background snapshot once enough records have been written since the last one. */
  maybeSnapshot(): void {
    const { d } = this;
    if (d.everyRecords === 0 || this.snapshotting) return;
    // The snapshot's seq must be in the log already, or a crash could leave a gap between them.
    if (d.processor.committedSeq - this.lastSnapshotSeq < d.everyRecords || d.processor.committedSeq > d.writtenSeq()) return;
    this.snapshotting = true;
    this.snapshot().then(
      () => {
        this.snapshotting = false;
        // Enough records may have come while it was written: the next one starts now,
        // not at the next write (which an idle node may not see for long).
        this.maybeSnapshot();
      },
      (err: Error) => {
        this.snapshotting = false;
        d.onFailed(err);
      },
    );
  }

  /**
   * Writes a snapshot file after those already queued (a background snapshot may meet
   * one a joiner needs when there is none).
   */
  snapshot(): Promise<number> {
    const run = this.run.then(() => this.writeFile());
    this.run = run.catch(() => undefined);
    return run;
  }

  private async writeFile(): Promise<number> {
    const { d } = this;
    const t0 = d.clock.now();
    // Walked a slice per timer tick: no pass over every asset or id in one go. Each
    // chunk goes to the file as it is encoded, so the body is never held whole (holding
    // it promoted ~100 MB to the old space and cost GC pauses near the peer timeout).
    const walk = d.processor.beginSnapshot();
    const seq = walk.seq;
    let file: SnapshotFileWriter;
    try {
      file = await SnapshotFileWriter.open(d.storage, seq, walk.epoch, SNAPSHOT_BODY_HEADER_BYTES);
    } catch (err) {
      walk.end();
      throw err;
    }
    try {
      await file.commit(await encodeSnapshotTo(walk, d.pause, (chunk) => file.append(chunk)));
    } catch (err) {
      await file.discard();
      throw err;
    }
    this.lastSnapshotSeq = seq;
    await compact(d.storage, seq, 2, d.pinnedSeq());
    this.lastWrittenAt = d.clock.now();
    this.lastWriteMs = this.lastWrittenAt - t0;
    d.log.info({ seq, ms: this.lastWriteMs }, 'snapshot written');
    return seq;
  }
}
