/**
 * What a node reports for metrics and the live page: plain numbers the core already
 * keeps, read on demand (a scrape, a tick of the live stream), never computed on the
 * hot path. The app maps them onto Prometheus and onto its event stream; the core
 * knows nothing of either.
 */
import type { RoleState } from '@txtest/actors';
import type { RejectReason } from '../pair/peer-auth';
import type { SyncCounts } from '../pair/replicator';

export interface NodeStats {
  role: RoleState;
  epoch: number;
  /** Highest log position held. */
  lastSeq: number;
  /** Primary: the gate's watermark; standby: what it holds contiguously (as in status). */
  committedSeq: number;
  /** Written to the local log file / synced by fdatasync. */
  writtenSeq: number;
  syncedSeq: number;
  /** Primary with a live standby: the standby's acknowledged seq; otherwise null. */
  standbyAckSeq: number | null;
  /** The peer's lastSeq from its last heartbeat, hello or join; null before any. */
  peerLastSeq: number | null;
  /** Milliseconds (on the node's clock) since the last message from the peer; null with no peer or none yet. */
  peerSilenceMs: number | null;
  heartbeatIntervalMs: number;
  heartbeatMissed: number;
  /** Updates admitted and not yet replied to. */
  inflight: number;
  /** The deepest asset mailbox right now. */
  mailboxDepthMax: number;
  assets: number;
  dedupeIds: number;
  /** Epochs this node opened (each start as primary, each failover, each move to solo). */
  promotions: number;
  /** How joiners were caught up by this node as primary (null standalone). */
  syncs: SyncCounts | null;
  /**
   * `--reply-from standby`: client replies this node forwarded to its standby (as
   * primary) and published for its primary (as standby). Null standalone.
   */
  chainReplies: { forwarded: number; published: number } | null;
  /**
   * Messages on this node's internal subject dropped since start, by reason (peer-auth.ts:
   * malformed, not from the peer, unauthenticated, a bad MAC, a replay...). Null standalone.
   */
  nodeMessagesRejected: Record<RejectReason, number> | null;
  /** The log failed and the node takes no more updates. */
  failed: boolean;
  /**
   * How late the heartbeat timer ran at worst over the last 5 to 10 s, in milliseconds:
   * the event-loop stall as the pair's failure detector saw it (a peer times out after
   * heartbeatMissed x heartbeatIntervalMs). Null standalone (no heartbeats).
   */
  beatLateMaxMs: number | null;
  /** Error replies by code since start (REJECTED included: a model's refusal). */
  errors: Record<string, number>;
  /** The newest snapshot: its seq (0: none), and when this process last wrote one and how long that took. */
  snapshot: { seq: number; writtenAtMs: number | null; writeMs: number | null };
}
