/**
 * Subject builders. Everything lives under `P.C.` (prefix, cluster). Client subjects
 * are public (PROTOCOL.md section 1); the `_node.` subtree is internal node-to-node
 * traffic and never accepts client messages.
 */
import { UNSHARDED, type ShardSpec } from './shards';

export interface Subjects {
  readonly tx: string;
  readonly query: string;
  status(nodeId: string): string;
  /** Every node of the cluster (all shards) answers a request here with its status: collect the replies for a moment. */
  readonly statusAll: string;
  events(asset: string): string;
  /** Wildcard for subscribers to every asset's events. */
  readonly eventsAll: string;
  /** Internal: messages addressed to one node (replication, acks, heartbeats, sync). */
  node(nodeId: string): string;
}

export const DEFAULT_PREFIX = 'txtest';
export const DEFAULT_CLUSTER = 'default';

/** A NATS subject token: no whitespace, dots or wildcards. */
const TOKEN = /^[A-Za-z0-9_-]+$/;

export function isSubjectToken(s: string): boolean {
  return TOKEN.test(s);
}

/**
 * The subjects of a cluster, with `tx` and `query` those of one shard: `P.C.tx.k` when the
 * cluster has more than one (section 12), plain `P.C.tx` when it has one.
 */
export function subjects(prefix = DEFAULT_PREFIX, cluster = DEFAULT_CLUSTER, shard: ShardSpec = UNSHARDED): Subjects {
  const base = `${prefix}.${cluster}`;
  const tail = shard.count === 1 ? '' : `.${shard.index}`;
  return {
    tx: `${base}.tx${tail}`,
    query: `${base}.query${tail}`,
    status: (nodeId) => `${base}.status.${nodeId}`,
    statusAll: `${base}.status`,
    events: (asset) => `${base}.events.${asset}`,
    eventsAll: `${base}.events.>`,
    node: (nodeId) => `${base}._node.${nodeId}`,
  };
}
