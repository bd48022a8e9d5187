/**
 * Subject builders. Everything lives under `P.C.` (prefix, cluster). Client subjects
 * are public (PROTOCOL.md section 1); the `_node.` subtree is internal node-to-node
 * traffic and never accepts client messages.
 */

export interface Subjects {
  readonly tx: string;
  readonly query: string;
  status(nodeId: string): string;
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

export function subjects(prefix = DEFAULT_PREFIX, cluster = DEFAULT_CLUSTER): Subjects {
  const base = `${prefix}.${cluster}`;
  return {
    tx: `${base}.tx`,
    query: `${base}.query`,
    status: (nodeId) => `${base}.status.${nodeId}`,
    events: (asset) => `${base}.events.${asset}`,
    eventsAll: `${base}.events.>`,
    node: (nodeId) => `${base}._node.${nodeId}`,
  };
}
