/** Asking a node for its status over NATS, as an operator would. */
import type { NatsConnection } from '@nats-io/nats-core';
import { DEFAULT_CLUSTER, DEFAULT_PREFIX, packMsgpack, subjects, unpackMsgpack, type NodeStatus } from '@txtest/protocol';

export async function nodeStatus(
  nc: NatsConnection,
  nodeId: string,
  digest = false,
  prefix = DEFAULT_PREFIX,
  cluster = DEFAULT_CLUSTER,
  timeoutMs = 5000,
): Promise<NodeStatus> {
  const m = await nc.request(subjects(prefix, cluster).status(nodeId), digest ? packMsgpack({ digest: true }) : new Uint8Array(0), { timeout: timeoutMs });
  return unpackMsgpack(m.data) as NodeStatus;
}
