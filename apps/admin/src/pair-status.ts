/**
 * `txtest-admin status`: every node's status (their status subjects, PROTOCOL.md
 * section 5) side by side, one table per shard: role, epoch, seqs, lag behind the
 * pair's serving node, peer, build. Exit 0 when every node answered, 1 otherwise.
 */
import type { Command, Values } from '@txtest/cli';
import { defaultNodeIds, packMsgpack, subjects, unpackMsgpack, type NodeStatus } from '@txtest/protocol';
import { connectNats, natsSettings } from '@txtest/transport-nats';
import { clusterNodes, PAIR_FLAGS } from './cluster-flags';

type Nats = Awaited<ReturnType<typeof connectNats>>;

export const STATUS_FLAGS = [...PAIR_FLAGS, { name: 'json', type: 'bool', help: 'print the statuses as one JSON array instead of a table' }] as const;

export const STATUS_COMMAND: Command<typeof STATUS_FLAGS> = {
  prog: 'txtest-admin status',
  usage: ['[flags]'],
  about: ['Asks each node for its status and prints them side by side, a table per shard (role, epoch, seqs, lag, peer).'],
  flags: STATUS_FLAGS,
};

/** A node's answer, or why there is none. */
export type Answer = { nodeId: string; status: NodeStatus } | { nodeId: string; error: string };

/** Asks every node in `nodes` for its status, in parallel. */
export async function askAll(nc: Nats, v: Values<typeof PAIR_FLAGS>, nodes: readonly string[]): Promise<Answer[]> {
  const s = subjects(v.prefix, v.cluster);
  return Promise.all(
    nodes.map(async (nodeId): Promise<Answer> => {
      try {
        const m = await nc.request(s.status(nodeId), packMsgpack({}), { timeout: v.timeout });
        return { nodeId, status: unpackMsgpack(m.data) as NodeStatus };
      } catch (err) {
        return { nodeId, error: (err as Error).message };
      }
    }),
  );
}

/** The node that serves (primary or solo), if exactly one does. */
export function servingOf(answers: readonly Answer[]): NodeStatus | null {
  const serving = answers.flatMap((a) => ('status' in a && (a.status.role === 'primary' || a.status.role === 'solo') ? [a.status] : []));
  return serving.length === 1 ? serving[0]! : null;
}

export async function pairStatus(v: Values<typeof STATUS_FLAGS>, out: (line: string) => void): Promise<number> {
  const nc = await connectNats(natsSettings(v), 'txtest-admin');
  try {
    const answers = await askAll(nc, v, clusterNodes(v));
    if (v.json) out(JSON.stringify(answers.map((a) => ('status' in a ? a.status : a))));
    else for (const line of tables(answers, v.shards)) out(line);
    return answers.every((a) => 'status' in a) ? 0 : 1;
  } finally {
    await nc.close();
  }
}

/**
 * One table per shard, its nodes by the shard they report; a node that does not answer
 * shows in the table of the shard whose default id it has, else in the first.
 */
function tables(answers: readonly Answer[], shards: number): string[] {
  if (shards === 1) return table(answers);
  const defaults = defaultNodeIds(shards);
  const shardOfAnswer = (a: Answer) => ('status' in a ? (a.status.shard ?? 0) : Math.max(0, Math.floor(defaults.indexOf(a.nodeId) / 2)));
  const lines: string[] = [];
  for (let k = 0; k < shards; k++) {
    const mine = answers.filter((a) => shardOfAnswer(a) === k);
    lines.push(`${k === 0 ? '' : '\n'}shard ${k} of ${shards}${mine.length === 0 ? ': no node asked' : ''}`);
    if (mine.length > 0) lines.push(...table(mine));
  }
  return lines;
}

/** The rows of the side-by-side table: a label, then one column per node. */
function table(answers: readonly Answer[]): string[] {
  const lead = servingOf(answers);
  const cell = (a: Answer, f: (s: NodeStatus) => unknown) => ('status' in a ? String(f(a.status) ?? '-') : 'unreachable');
  const rows: [string, (s: NodeStatus) => unknown][] = [
    ['role', (s) => s.role],
    ['epoch', (s) => s.epoch],
    ['lastSeq', (s) => s.lastSeq],
    ['committedSeq', (s) => s.committedSeq],
    ['lag', (s) => (lead === null ? '-' : lead.lastSeq - s.lastSeq)],
    ['peer', (s) => (s.peer === null ? 'none' : `${s.peer.nodeId} ${s.peer.connected ? 'connected' : 'silent'}`)],
    ['version', (s) => s.version],
    ['pid', (s) => s.pid],
    ['http', (s) => s.http],
  ];
  const grid = [['', ...answers.map((a) => a.nodeId)], ...rows.map(([label, f]) => [label, ...answers.map((a) => cell(a, f))])];
  const errors = answers.flatMap((a) => ('error' in a ? [`${a.nodeId}: ${a.error}`] : []));
  const widths = grid[0]!.map((_, i) => Math.max(...grid.map((r) => r[i]!.length)));
  return [
    ...grid.map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    ),
    ...errors,
  ];
}
