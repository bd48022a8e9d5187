/**
 * `txtest-admin switchover`: a planned role swap of a running pair (docs/OPERATIONS.md).
 * Asks the primary to hand over (a `{ switchover: true }` request on its status
 * subject, signed with the cluster key when given), then watches both nodes until the
 * old standby serves and the old primary is its standby again. Exit 0 once both hold
 * their new roles, 1 when the primary refused or the swap did not finish in time.
 */
import { CliError, readClusterKeyFile, type Command, type Values } from '@txtest/cli';
import { ClusterKeys, switchoverText, type SwitchoverReply } from '@txtest/cluster';
import { connectNats, natsSettings } from '@txtest/transport-nats';
import { defaultPairIds, packMsgpack, SHARDS_MAX, subjects, unpackMsgpack } from '@txtest/protocol';
import { PAIR_FLAGS } from './cluster-flags';
import { askAll } from './pair-status';

export const SWITCHOVER_FLAGS = [
  ...PAIR_FLAGS,
  {
    name: 'cluster-key-file',
    env: 'TXTEST_CLUSTER_KEY_FILE',
    type: 'string',
    value: 'file',
    parse: readClusterKeyFile,
    help: "the pair's cluster key file: a node that holds a key takes only a signed switchover request",
  },
  {
    name: 'shard',
    env: 'TXTEST_SHARD',
    type: 'int',
    min: 0,
    max: SHARDS_MAX - 1,
    default: '0',
    help: 'the shard whose pair swaps (its nodes s<k>-n1, s<k>-n2 unless --nodes names them)',
  },
  { name: 'within', type: 'duration', unit: 's', default: '60s', min: 1, help: 'how long the swap may take before the command gives up' },
] as const;

export const SWITCHOVER_COMMAND: Command<typeof SWITCHOVER_FLAGS> = {
  prog: 'txtest-admin switchover',
  usage: ['[flags]'],
  about: [
    'Swaps the roles of a running pair without stopping either process: the primary waits until its',
    'standby has every record, hands over, and follows the new primary as its standby.',
  ],
  flags: SWITCHOVER_FLAGS,
};

/** Time the primary may take to drain and hand over (it waits at most two peer timeouts). */
const HANDOVER_REPLY_MS = 15_000;
const POLL_MS = 50;

export async function switchover(v: Values<typeof SWITCHOVER_FLAGS>, out: (line: string) => void): Promise<number> {
  if (v.shard >= v.shards) throw new CliError(`--shard (${v.shard}) must be less than --shards (${v.shards}): shards are numbered from 0`);
  const nodes = v.nodes ?? defaultPairIds({ index: v.shard, count: v.shards });
  const nc = await connectNats(natsSettings(v), 'txtest-admin');
  try {
    const before = await askAll(nc, v, nodes);
    const primary = before.find((a) => 'status' in a && a.status.role === 'primary');
    if (primary === undefined || !('status' in primary)) {
      const roles = before.map((a) => `${a.nodeId} ${'status' in a ? a.status.role : 'unreachable'}`).join(', ');
      throw new CliError(`no primary with a standby attached to hand over (${roles})`);
    }
    const from = primary.nodeId;
    const subject = subjects(v.prefix, v.cluster).status(from);
    const started = Date.now();
    const m = await nc.request(subject, packMsgpack(request(subject, v['cluster-key-file'])), { timeout: HANDOVER_REPLY_MS });
    const reply = unpackMsgpack(m.data) as SwitchoverReply;
    if (!reply.ok) {
      out(`${from} refused the switchover: ${reply.error}`);
      return 1;
    }
    out(`${from} handed over to ${reply.to} at seq ${reply.lastSeq} (epoch ${reply.epoch}) after ${Date.now() - started} ms`);
    let served = false;
    while (Date.now() - started < v.within * 1000) {
      const now = await askAll(nc, v, nodes);
      const role = (id: string) => now.flatMap((a) => (a.nodeId === id && 'status' in a ? [a.status] : []))[0];
      const to = role(reply.to);
      if (!served && to !== undefined && (to.role === 'primary' || to.role === 'solo') && to.epoch > reply.epoch) {
        served = true;
        out(`${reply.to} serves epoch ${to.epoch} after ${Date.now() - started} ms`);
      }
      if (served && to?.role === 'primary' && role(from)?.role === 'standby') {
        out(`${from} is its standby after ${Date.now() - started} ms: switchover done`);
        return 0;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    out(`the swap did not finish within ${v.within} s: see txtest-admin status`);
    return 1;
  } finally {
    await nc.close();
  }
}

/** The request body: signed with the first key when there is a key file. */
function request(subject: string, keys: Uint8Array[] | undefined): object {
  if (keys === undefined) return { switchover: true };
  const ts = Date.now();
  return { switchover: true, ts, mac: new ClusterKeys(keys).mac(subject, switchoverText(subject, ts)).toString('hex') };
}
