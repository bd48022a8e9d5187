/**
 * What the app gives a TxNode: identity, adapters (transport, clock, storage, logger,
 * arbiter), tuning with named defaults, and the observer hooks through which the app
 * and the simulator watch the core without patching it.
 */
import type { Clock, DedupeLimits, Defer, ProcessorLimits, RoleChange } from '@txtest/actors';
import type { LogStorage } from '@txtest/journal';
import type { Model } from '@txtest/models';
import { UNSHARDED, type ShardSpec, type Subjects } from '@txtest/protocol';
import type { Arbiter } from '../epochs/arbiter';
import type { EpochStorage } from '../epochs/epoch-store';
import type { Faults } from '../faults';
import type { ClusterKeys } from '../pair/peer-auth';
import type { FsyncPolicy } from '../log/durability';
import type { Logger, Transport } from '../transport';

/**
 * The errors the core reports through `onCoreError`. Operating errors: 'journal-corrupt'
 * (recovery refused the log; the operator must act), 'log-failed' (the log or the epoch
 * record could not be written: the node takes no more updates), 'snapshot-failed' (the log
 * still holds everything). The others are the core's own exceptions caught on the way
 * out: 'start-failed', 'peer-message-failed', 'sync-plan-failed', 'sync-stream-failed'.
 */
export type CoreErrorKind =
  'journal-corrupt' | 'start-failed' | 'log-failed' | 'snapshot-failed' | 'peer-message-failed' | 'sync-plan-failed' | 'sync-stream-failed';

export interface TxNodeOptions {
  nodeId: string;
  /** The other node of the pair; null when standalone. */
  peerId: string | null;
  /**
   * Which shard of the cluster this pair owns (default: the only one). Its subjects must
   * be that shard's (`subjects(prefix, cluster, shard)`); assets of other shards are
   * refused with WRONG_SHARD.
   */
  shard?: ShardSpec;
  subjects: Subjects;
  /**
   * Members the node puts in the queue group of each client subject when it begins to
   * serve alone (default 1; one once a standby attaches). More shrink the share of
   * requests a dead predecessor's lingering connection still takes after this node took
   * over (serving.ts); the app runs 16.
   */
  queueMembers?: number;
  transport: Transport;
  clock: Clock;
  defer: Defer;
  logStorage: LogStorage;
  epochStorage: EpochStorage;
  log: Logger;
  getModel: (name: string) => Model | undefined;
  fsync: FsyncPolicy;
  bodyBytesMax: number;
  limits?: Partial<ProcessorLimits>;
  dedupe?: DedupeLimits;
  /** Publish committed updates on P.C.events.<asset> (default true). */
  events?: boolean;
  /** Records between background snapshots; 0 turns them off. */
  snapshotEveryRecords: number;
  segmentBytesMax: number;
  repairLog: boolean;
  heartbeatIntervalMs?: number;
  heartbeatMissed?: number;
  /** What a standby's ack means: in memory (default) or synced to its log. */
  ack?: 'received' | 'logged';
  /**
   * Who publishes the client replies while a standby is attached: the primary once the
   * standby's ack is back (default), or the standby itself once its log holds the
   * update (chain replication: one hop fewer; docs/ARCHITECTURE.md).
   */
  replyFrom?: 'primary' | 'standby';
  /** Compare-and-set on every epoch change; null runs without one. */
  arbiter?: Arbiter | null;
  /** Authenticates node-to-node messages (docs/SECURITY.md); null or absent: they go unauthenticated. */
  clusterKeys?: ClusterKeys | null;
  /** Start as primary without the peer (operator override). */
  forcePrimary?: boolean;
  /** Bytes of recent frames the primary keeps in memory for resends (default 8 MiB); older ones come from the log. */
  replicationRingBytes?: number;
  /** Bytes a sync (snapshot pieces, tail batches) may have in flight beyond the joiner's ack (default 4 MiB). */
  syncWindowBytes?: number;
  /** Records a joiner may be behind and still take the tail rather than a snapshot that spares it more (default 500,000). */
  syncTailRecordsMax?: number;
  /** Fields the app adds to status (pid, http address). */
  statusExtras: () => { pid: number; http: string; version?: string };
  /** Every role change, after it is logged (for the HTTP live stream). */
  onRoleChange?: (change: RoleChange) => void;
  /** Test-only breakage (see faults.ts); empty in production. */
  faults?: Faults;
  /** Once, when the node fails (its log, or its epoch record): it takes and follows no more updates. */
  onFailed?: (err: Error) => void;
  /**
   * Every record this node applies: its own turns as primary, and records from its log
   * (recovery, a rollback's rebuild) or its primary (as standby or syncing), in seq order.
   */
  onApplied?: (seq: number, id: string, epoch: number) => void;
  /** Every snapshot load (a recovery's, a rollback's, an installed one from the primary) and every reset to empty (seq 0). */
  onSnapshotInstalled?: (seq: number) => void;
  /** Every error the core logs at error level (see CoreErrorKind), after it is logged. */
  onCoreError?: (kind: CoreErrorKind, err: Error) => void;
  /**
   * Once, when a start's recovery has rebuilt the state and before the node takes a role:
   * the one moment a long pause costs nothing (the app collects the replay's garbage there).
   */
  onRecovered?: () => void;
}

/** The tuning a node runs with when the options leave it out. */
export const NODE_DEFAULTS = {
  heartbeatIntervalMs: 50,
  heartbeatMissed: 4,
  ack: 'received',
  replyFrom: 'primary',
  queueMembers: 1,
} as const;

/** The options with their defaults applied (what the parts read). */
export interface ResolvedOptions extends TxNodeOptions {
  heartbeatIntervalMs: number;
  heartbeatMissed: number;
  ack: 'received' | 'logged';
  replyFrom: 'primary' | 'standby';
  shard: ShardSpec;
  queueMembers: number;
}

export function resolveOptions(o: TxNodeOptions): ResolvedOptions {
  return {
    ...o,
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? NODE_DEFAULTS.heartbeatIntervalMs,
    heartbeatMissed: o.heartbeatMissed ?? NODE_DEFAULTS.heartbeatMissed,
    ack: o.ack ?? NODE_DEFAULTS.ack,
    replyFrom: o.replyFrom ?? NODE_DEFAULTS.replyFrom,
    shard: o.shard ?? UNSHARDED,
    queueMembers: o.queueMembers ?? NODE_DEFAULTS.queueMembers,
  };
}

/** Turns anything thrown into an Error (a rejection may carry anything). */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
