/** The flags of the commands that talk to a running cluster over NATS: the node's own NATS, subject and shard settings. */
import type { Flag, Values } from '@txtest/cli';
import { defaultNodeIds, SHARDS_MAX } from '@txtest/protocol';
import { NATS_FLAGS, SUBJECT_FLAGS, subjectToken } from '@txtest/transport-nats';

function nodeIds(raw: string): string[] {
  return raw
    .split(',')
    .filter((s) => s !== '')
    .map(subjectToken);
}

export const PAIR_FLAGS = [
  ...NATS_FLAGS,
  ...SUBJECT_FLAGS,
  { name: 'shards', env: 'TXTEST_SHARDS', type: 'int', min: 1, max: SHARDS_MAX, default: '1', help: "shards of the cluster (the nodes' --shards)" },
  {
    name: 'nodes',
    env: 'TXTEST_NODES',
    type: 'string',
    value: 'a,b',
    parse: nodeIds,
    defaultHelp: 'n1,n2; with --shards S, s<k>-n1,s<k>-n2 of every shard k',
    help: 'the node ids to ask',
  },
  { name: 'timeout', type: 'duration', unit: 'ms', default: '2s', min: 1, help: 'how long a node has to answer a status request' },
] as const satisfies readonly Flag[];

/** The node ids to ask: the given ones, else the default ids of every shard. */
export function clusterNodes(v: Values<typeof PAIR_FLAGS>): string[] {
  return v.nodes ?? defaultNodeIds(v.shards);
}
