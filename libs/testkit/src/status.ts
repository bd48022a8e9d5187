/** Asking a node for its status over NATS, as an operator would. */
import type { NatsConnection } from '@nats-io/nats-core';
import { packMsgpack, subjects, unpackMsgpack, type NodeStatus } from '@txtest/protocol';

export async function nodeStatus(nc: NatsConnection, nodeId: string, digest = false, prefix = 'txtest', cluster = 'default'): Promise<NodeStatus> {
  const m = await nc.request(subjects(prefix, cluster).status(nodeId), digest ? packMsgpack({ digest: true }) : new Uint8Array(0), { timeout: 5000 });
  return unpackMsgpack(m.data) as NodeStatus;
}
