/**
 * The role machine's actions (libs/actors ROLE_ACTIONS) on the node's parts: what
 * entering and leaving each role does.
 */
import type { RoleActionName, RoleEvent } from '@txtest/actors';
import type { EpochKeeper } from '../epochs/epoch-keeper';
import type { Promotion } from '../epochs/promotion';
import { describeFsync } from '../log/durability';
import type { PairSession } from '../pair/pair-session';
import type { Serving } from '../serving/serving';
import type { ResolvedOptions } from './options';
import type { Shutdown } from './shutdown';

export interface RoleActionParts {
  o: ResolvedOptions;
  serving: Serving;
  epochs: EpochKeeper;
  promotion: Promotion;
  pair: PairSession | null;
  shutdown: Shutdown;
  send(event: RoleEvent): void;
}

export function roleActions(p: RoleActionParts): Record<RoleActionName, () => void> {
  const { o, serving, pair } = p;
  return {
    sendHello: () => pair?.negotiation.sendHello(),
    openEpoch: () => void p.promotion.open(),
    enterPrimary: () => serving.serve('standby', 'primary: replies wait for the standby'),
    enterSolo: () => {
      // The standby was given up on: stop its stream, so that only a fresh JOIN (and the
      // catch-up it starts) can make it a standby again. A stale live stream would let it
      // think itself attached, and later fail over without what this solo node acked.
      pair?.replicator.stopFollowing();
      serving.serve('local', 'solo: replies wait for the local log only');
      if (pair === null) o.log.info({ fsync: describeFsync(o.fsync) }, 'serving standalone');
    },
    leavePrimary: () => serving.hold('left primary'),
    leaveSolo: () => serving.hold('left solo'),
    startSync: () => pair?.joiner.start(),
    enterStandby: () => {
      if (pair !== null) p.epochs.noteCaughtUp(pair.link.peerId);
    },
    // A catch-up applied in slices may have frames left: a node that may serve next holds them all.
    leaveStandby: () => pair?.follower.drain(),
    enterFenced: () => {
      serving.unserve('fenced by a newer epoch');
      pair?.replicator.stopFollowing();
      // What this node holds beyond the new primary's history is dropped when it rejoins:
      // the primary compares histories and names the agreed point in its SYNC.
      queueMicrotask(() => p.send({ type: 'FENCE_DONE' }));
    },
    // A failed log cannot be flushed: the stop still completes (STOPPED is sent in a finally).
    enterStopping: () => void p.shutdown.run().catch((err: Error) => o.log.warn({ err: err.message }, 'the log could not be flushed on stop')),
  };
}
