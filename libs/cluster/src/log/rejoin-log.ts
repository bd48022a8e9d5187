/**
 * What a joining node does to its own log on its primary's word: drop a suffix the
 * primary never confirmed (roll back), or replace everything with the primary's
 * snapshot (install). Either way the epoch record is written first, so a crash in
 * between leaves a node that resyncs, never one that thinks it holds the epoch.
 */
import type { Processor } from '@txtest/actors';
import { listSnapshots, recover, rollbackFloor, SNAPSHOT_HEADER_BYTES, type IncomingSnapshot, type LogStorage } from '@txtest/journal';
import type { EpochKeeper } from '../epochs/epoch-keeper';
import type { Logger } from '../transport';
import type { LogWiring } from './log-wiring';
import type { Snapshotter } from './snapshotter';
import type { StateLoader } from './state-loader';

export interface RejoinLogDeps {
  storage: LogStorage;
  log: Logger;
  processor: Processor;
  epochs: EpochKeeper;
  wiring: LogWiring;
  snapshotter: Snapshotter;
  loader: StateLoader;
  /** The primary this node joins. */
  peerId: string;
}

export class RejoinLog {
  constructor(private readonly d: RejoinLogDeps) {}

  /** Waits until nothing writes the log or a snapshot any more, and closes the log. */
  async quiesce(): Promise<void> {
    await this.d.snapshotter.settled();
    await this.d.wiring.idle();
    await this.d.wiring.close();
  }

  /**
   * Drops the records after `agreed` (never confirmed: the primary's log does not hold
   * them) from the log and the state: the log is cut there, snapshots beyond it are
   * deleted, and the state is rebuilt from this node's own snapshot and log up to it,
   * so the dedupe memory forgets the dropped ids too. Resolves with the seq now held.
   */
  async rollBack(agreed: number): Promise<number> {
    const { d } = this;
    const old = d.processor.lastSeq;
    await d.snapshotter.settled();
    await d.wiring.idle();
    // The history first: a crash after the cut must not leave epochs the log no longer holds.
    // The primary planned on the floor this node announced; should its files have changed
    // since, and no snapshot at or below `agreed` be left to rebuild from, start from nothing.
    const to = agreed >= rollbackFloor(await d.storage.list(), old) ? agreed : 0;
    const r = d.epochs.record;
    // `syncing`, not `standby`: this node holds only part of the epoch until it catches up (election.ts).
    await d.epochs.save({ ...r, role: 'syncing', primary: d.peerId, history: r.history.filter(([, first]) => first <= to) });
    await d.wiring.truncateAfter(to);
    await d.wiring.close();
    for (const s of listSnapshots(await d.storage.list())) if (s.seq > to) await d.storage.remove(s.name);
    const rec = await recover(d.storage, { repair: false, warn: (msg) => d.log.warn({}, msg) });
    await d.loader.rebuild(rec);
    d.wiring.open(d.processor.lastSeq, rec.lastEpoch);
    d.log.warn(
      { agreed, dropped: `${agreed + 1}..${old}`, lastSeq: d.processor.lastSeq },
      'dropped records never confirmed by truncating the log; state rebuilt from the own snapshot and log',
    );
    return d.processor.lastSeq;
  }

  /**
   * Replaces this node's state and log with the primary's snapshot, received into a part
   * file and verified: the old log goes first (after the epoch record names the new
   * primary, so a crash in between leaves an empty standby that resyncs, never a node
   * that thinks it was primary), then the file takes its snapshot name and is loaded a
   * slice at a time, so heartbeats keep flowing during a large install.
   */
  async install(file: IncomingSnapshot, seq: number, epoch: number, history: [number, number][]): Promise<void> {
    const { d } = this;
    const old = d.processor.lastSeq;
    await this.quiesce();
    // First a record with no history: a crash before the old log is gone must not leave
    // that log under the primary's history (it would pass for agreeing with it on rejoin).
    await d.epochs.save({ ...d.epochs.record, epoch: Math.max(d.epochs.record.epoch, epoch), role: 'syncing', primary: d.peerId, history: [] });
    for (const name of await d.storage.list()) {
      if (name.endsWith('.log') || name.endsWith('.snap')) await d.storage.remove(name);
    }
    const name = await file.place();
    await d.epochs.save({ ...d.epochs.record, history });
    d.snapshotter.lastSnapshotSeq = seq;
    const body = (await d.storage.read(name)).subarray(SNAPSHOT_HEADER_BYTES);
    const loaded = await d.loader.install(body);
    d.wiring.open(seq, epoch);
    d.log.info(
      { seq, replacedLastSeq: old, assets: loaded.assets, bytes: body.length },
      "installed the primary's snapshot; the local log starts over after it",
    );
  }
}
