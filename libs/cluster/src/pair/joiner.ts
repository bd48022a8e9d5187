/**
 * The joining side of a sync: a sync id per catch-up, the JOIN that asks the primary for
 * it (with how far this node can roll back), and its repeats. A sync survives syncing ->
 * negotiating -> syncing under the same primary and epoch (its stream stalled), so the
 * primary continues the transfer rather than start it over.
 */
import type { Clock, RoleState } from '@txtest/actors';
import { rollbackFloor, type LogStorage } from '@txtest/journal';
import type { NodeSummary } from '@txtest/protocol';
import type { Logger } from '../transport';
import type { Follower } from './follower';

export interface JoinerDeps {
  nodeId: string;
  clock: Clock;
  log: Logger;
  storage: LogStorage;
  follower: Follower;
  /** Tells this process's syncs from a previous one's (the primary starts over only for a new sync id). */
  incarnation: string;
  /** Stops serving and following before a sync. */
  stopAll(): void;
  /** The highest epoch this node knows of: the machine's, the record's, a serving peer's. */
  knownEpoch(): number;
  /** Resolves once no snapshot file is being written. */
  snapshotsSettled(): Promise<unknown>;
  lastSeq(): number;
  role(): RoleState;
  fail(err: Error): void;
  sendJoin(header: { syncId: string; floor: number }): void;
}

export class Joiner {
  private syncsBegun = 0;
  /** The epoch the current sync follows (a sync continues across syncing -> negotiating -> syncing in it). */
  private syncEpoch = -1;
  private resumable = false;
  /** What the last JOIN said about how far this node can roll back (journal's rollbackFloor). */
  private floor = 0;
  /** When the last JOIN went out. */
  lastJoinAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly d: JoinerDeps) {}

  /** Every role change: a sync survives syncing -> negotiating -> syncing and nothing else. */
  onRoleChange(from: RoleState, to: RoleState): void {
    if (from === 'syncing' && to === 'negotiating') this.resumable = true;
    else if (to !== 'syncing') this.resumable = false;
  }

  /** A new sync (a new id): what this node can roll back to is measured once its files are quiet, then the JOIN goes out. */
  start(): void {
    const { d } = this;
    d.stopAll();
    // Back in syncing under the same primary and epoch (its stream stalled past the peer
    // timeout, a busy primary's GC): the same sync goes on, its JOIN a repeat, rather than
    // a new one that would start the transfer over. Any newer epoch is a new sync.
    const epoch = d.knownEpoch();
    const resume = this.resumable && !d.follower.caughtUp && epoch === this.syncEpoch;
    this.resumable = false;
    if (resume) {
      d.log.info({ syncId: d.follower.syncId, epoch }, 'syncing again with the same primary: continuing the sync');
      return this.sendJoin();
    }
    this.syncEpoch = epoch;
    const syncId = `${d.nodeId}.${d.incarnation}.${++this.syncsBegun}`;
    d.follower.reset(syncId);
    this.lastJoinAt = d.clock.now();
    void this.measureFloor().then(
      () => {
        if (d.role() === 'syncing' && d.follower.syncId === syncId) this.sendJoin();
      },
      (err: Error) => d.fail(err),
    );
  }

  /** A join that got no stream going (lost, or sent before the peer served) is sent again, with the same sync id. */
  retryIfStuck(now: number, peerTimeoutMs: number): void {
    const f = this.d.follower;
    if (!f.caughtUp && !f.busy && now - f.lastStreamAt > peerTimeoutMs && now - this.lastJoinAt > peerTimeoutMs) this.sendJoin();
  }

  sendJoin(): void {
    this.lastJoinAt = this.d.clock.now();
    this.d.sendJoin({ syncId: this.d.follower.syncId, floor: this.floor });
  }

  private async measureFloor(): Promise<void> {
    await this.d.snapshotsSettled();
    this.floor = rollbackFloor(await this.d.storage.list(), this.d.lastSeq());
  }
}

/** The epoch a sync follows: the highest of the machine's, the record's and a serving peer's. */
export function syncEpochOf(machineEpoch: number, recordEpoch: number, peer: NodeSummary | null): number {
  return Math.max(machineEpoch, recordEpoch, peer !== null && (peer.role === 'primary' || peer.role === 'solo') ? peer.epoch : 0);
}
