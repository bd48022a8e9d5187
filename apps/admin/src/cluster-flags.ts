/** The flags of the commands that talk to a running pair over NATS: the node's own NATS and subject settings. */
import type { Flag } from '@txtest/cli';
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
  { name: 'nodes', env: 'TXTEST_NODES', type: 'string', value: 'a,b', parse: nodeIds, default: 'n1,n2', help: 'the node ids of the pair' },
  { name: 'timeout', type: 'duration', unit: 'ms', default: '2s', min: 1, help: 'how long a node has to answer a status request' },
] as const satisfies readonly Flag[];
