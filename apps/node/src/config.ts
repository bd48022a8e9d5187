/**
 * Node settings (PROTOCOL.md section 9): each a flag and an environment variable, in
 * one table (@txtest/cli), validated once at start into a frozen object. A bad setting
 * is one sentence naming it, and exit code 2.
 */
import { CliError, expected, parseDuration, readClusterKeyFile, ValueError, type Command, type Flag, type Values } from '@txtest/cli';
import type { FsyncPolicy } from '@txtest/cluster';
import { SHARDS_MAX, type ShardSpec } from '@txtest/protocol';
import { NATS_FLAGS, natsSettings, SUBJECT_FLAGS, subjectToken, type NatsSettings } from '@txtest/transport-nats';

export interface NodeConfig {
  readonly id: string;
  readonly peer: string | null;
  readonly standalone: boolean;
  readonly cluster: string;
  readonly prefix: string;
  /** Which shard of the cluster this node's pair owns (docs/SHARDING.md). */
  readonly shard: ShardSpec;
  readonly nats: Readonly<NatsSettings>;
  readonly dataDir: string;
  readonly http: { host: string; port: number };
  readonly heartbeatIntervalMs: number;
  readonly heartbeatMissed: number;
  readonly arbiter: (typeof ARBITERS)[number];
  /** Null: decided at start from the NATS cluster's size. */
  readonly arbiterReplicas: number | null;
  readonly forcePrimary: boolean;
  readonly fsync: FsyncPolicy;
  readonly ack: (typeof ACKS)[number];
  readonly replyFrom: (typeof REPLY_FROM)[number];
  readonly bodyBytesMax: number;
  readonly mailboxMax: number;
  readonly inflightMax: number;
  readonly snapshotEveryRecords: number;
  readonly segmentBytesMax: number;
  readonly replicationRingBytes: number;
  readonly heapGrowthPercent: number;
  readonly repairLog: boolean;
  readonly events: boolean;
  /** Null without --cluster-key-file: node-to-node traffic unauthenticated (warned about at start). */
  readonly clusterKeys: readonly Uint8Array[] | null;
  readonly logLevel: (typeof LOG_LEVELS)[number];
}

const ARBITERS = ['auto', 'kv', 'off'] as const;
const ACKS = ['received', 'logged'] as const;
const REPLY_FROM = ['primary', 'standby'] as const;
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export function parseFsync(raw: string): FsyncPolicy {
  if (raw === 'always') return { kind: 'always' };
  if (raw === 'never') return { kind: 'never' };
  try {
    return { kind: 'interval', ms: parseDuration({ name: 'fsync', min: 1, max: 60_000, whole: true }, raw) };
  } catch (err) {
    if (err instanceof ValueError) throw expected('always, never or an interval of 1ms..60s such as 5ms', raw);
    throw err;
  }
}

function parseHttp(raw: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d+)$/.exec(raw);
  if (m === null || Number(m[2]) > 65535) throw expected('host:port, a port (at most 65535), or 0', raw);
  return { host: m[1] ?? '127.0.0.1', port: Number(m[2]) };
}

/** Every setting, in the order `--help` lists them. */
export const NODE_FLAGS = [
  { name: 'id', env: 'TXTEST_NODE_ID', type: 'string', required: true, parse: subjectToken, help: "this node's id (letters, digits, _ and -)" },
  { name: 'peer', env: 'TXTEST_PEER_ID', type: 'string', parse: subjectToken, help: "the other node's id (required unless --standalone)" },
  { name: 'standalone', env: 'TXTEST_STANDALONE', type: 'bool', help: 'run a single node with no standby (role solo)' },
  ...SUBJECT_FLAGS,
  {
    name: 'shards',
    env: 'TXTEST_SHARDS',
    type: 'int',
    min: 1,
    max: SHARDS_MAX,
    default: '1',
    help: 'pairs the cluster is split into (its assets by fnv1a32(id) mod S); the same on every node and client',
  },
  { name: 'shard', env: 'TXTEST_SHARD', type: 'int', min: 0, max: SHARDS_MAX - 1, default: '0', help: "the shard this node's pair owns, 0..shards-1" },
  ...NATS_FLAGS,
  { name: 'data-dir', env: 'TXTEST_DATA_DIR', type: 'string', value: 'dir', defaultHelp: './data/<id>', help: 'log, snapshots and epoch record' },
  {
    name: 'http',
    env: 'TXTEST_HTTP',
    type: 'string',
    value: 'host:port',
    parse: parseHttp,
    default: '127.0.0.1:7070',
    help: 'HTTP status address host:port, a port, or 0 for an ephemeral port',
  },
  {
    name: 'heartbeat-interval-ms',
    env: 'TXTEST_HEARTBEAT_INTERVAL_MS',
    type: 'duration',
    min: 5,
    max: 100,
    whole: true,
    default: '50',
    help: 'heartbeat period, 5..100 ms',
  },
  {
    name: 'heartbeat-missed',
    env: 'TXTEST_HEARTBEAT_MISSED',
    type: 'int',
    min: 2,
    max: 100,
    default: '4',
    help: 'missed heartbeats before the peer counts as lost, 2..100',
  },
  { name: 'arbiter', env: 'TXTEST_ARBITER', type: 'enum', values: ARBITERS, default: 'auto', help: 'kv, off, or auto: kv when JetStream is available' },
  {
    name: 'arbiter-replicas',
    env: 'TXTEST_ARBITER_REPLICAS',
    type: 'int',
    min: 1,
    max: 5,
    defaultHelp: '3 when the NATS cluster has at least three servers, else 1',
    help: "copies of the arbiter's KV bucket in a JetStream cluster",
  },
  {
    name: 'force-primary',
    env: 'TXTEST_FORCE_PRIMARY',
    type: 'bool',
    help: "start as primary without the peer, or over the pair's refusal when no surviving log holds the newest epoch (operator override, logged loudly)",
  },
  {
    name: 'fsync',
    env: 'TXTEST_FSYNC',
    type: 'string',
    value: 'always|never|interval',
    parse: parseFsync,
    default: '5ms',
    help: 'always, never, or an interval such as 5ms',
  },
  { name: 'ack', env: 'TXTEST_ACK', type: 'enum', values: ACKS, default: 'received', help: 'standby ack level' },
  {
    name: 'reply-from',
    env: 'TXTEST_REPLY_FROM',
    type: 'enum',
    values: REPLY_FROM,
    default: 'primary',
    help: 'who publishes client replies while a standby is attached (standby: once its log holds the update, one hop fewer)',
  },
  { name: 'body-bytes-max', env: 'TXTEST_BODY_BYTES_MAX', type: 'int', min: 1024, max: 1024 * 1024, default: '65536', help: 'largest request body accepted' },
  {
    name: 'mailbox-max',
    env: 'TXTEST_MAILBOX_MAX',
    type: 'int',
    min: 1,
    max: 10_000_000,
    default: '10000',
    help: 'queued updates per asset before OVERLOADED',
  },
  {
    name: 'inflight-max',
    env: 'TXTEST_INFLIGHT_MAX',
    type: 'int',
    min: 1,
    max: 10_000_000,
    default: '100000',
    help: 'updates in flight node-wide before OVERLOADED',
  },
  {
    name: 'snapshot-every',
    env: 'TXTEST_SNAPSHOT_EVERY',
    type: 'int',
    min: 0,
    max: 1_000_000_000,
    default: '500000',
    help: 'records between background snapshots (0: never)',
  },
  { name: 'segment-bytes', env: 'TXTEST_SEGMENT_BYTES', type: 'int', min: 4096, max: 2 ** 31, default: '67108864', help: 'log segment size' },
  {
    name: 'replication-ring-bytes',
    env: 'TXTEST_REPLICATION_RING_BYTES',
    type: 'int',
    min: 0,
    max: 2 ** 31,
    default: '8388608',
    help: 'recent records kept in memory for resends and a catching-up standby (older ones come from the log)',
  },
  {
    name: 'heap-growth-percent',
    env: 'TXTEST_HEAP_GROWTH_PERCENT',
    type: 'int',
    min: 0,
    max: 400,
    default: '50',
    help: 'how far the V8 old space may grow past the live heap before a full GC, once the heap is over 128 MiB (0: V8 picks, up to 4x the live heap)',
  },
  { name: 'events', env: 'TXTEST_EVENTS', type: 'bool', onOff: true, default: true, help: 'publish committed updates on P.C.events.<asset>' },
  { name: 'repair-log', env: 'TXTEST_REPAIR_LOG', type: 'bool', help: 'truncate the log at a corrupt record instead of refusing to start' },
  {
    name: 'cluster-key-file',
    env: 'TXTEST_CLUSTER_KEY_FILE',
    type: 'string',
    value: 'file',
    parse: readClusterKeyFile,
    help: 'shared secret of the pair, one key per line (the first signs, all are accepted): node-to-node messages are authenticated (docs/SECURITY.md)',
  },
  { name: 'log-level', env: 'TXTEST_LOG_LEVEL', type: 'enum', values: LOG_LEVELS, default: 'info', help: 'pino log level' },
] as const satisfies readonly Flag[];

export const NODE_COMMAND: Command<typeof NODE_FLAGS> = {
  prog: 'txtest-node',
  usage: ['--id <id> --peer <id> [flags]', '--id <id> --standalone [flags]'],
  about: ['One node of a TxTest hot-standby pair (docs/PROTOCOL.md section 9, docs/PAIR.md).'],
  flags: NODE_FLAGS,
};

/** The node's settings from its parsed flags; the checks across flags are here. */
export function nodeConfig(v: Values<typeof NODE_FLAGS>): NodeConfig {
  const { id, peer, standalone } = v;
  if (!standalone && peer === undefined) throw new CliError('--peer is required unless --standalone (or TXTEST_PEER_ID): the id of the other node');
  if (peer === id) throw new CliError(`--peer must differ from --id (both are "${id}")`);
  const shard: ShardSpec = Object.freeze({ index: v.shard, count: v.shards });
  if (v.shard >= v.shards) throw new CliError(`--shard (${v.shard}) must be less than --shards (${v.shards}): shards are numbered from 0`);
  if (v.ack === 'logged' && v.fsync.kind === 'never')
    throw new CliError('--ack logged needs the log to be synced: use --fsync always or an interval, not never');
  return Object.freeze({
    id,
    peer: standalone ? null : peer!,
    standalone,
    cluster: v.cluster,
    prefix: v.prefix,
    shard,
    nats: Object.freeze(natsSettings(v)),
    dataDir: v['data-dir'] ?? `./data/${id}`,
    http: v.http,
    heartbeatIntervalMs: v['heartbeat-interval-ms'],
    heartbeatMissed: v['heartbeat-missed'],
    arbiter: v.arbiter,
    arbiterReplicas: v['arbiter-replicas'] ?? null,
    forcePrimary: v['force-primary'],
    fsync: v.fsync,
    ack: v.ack,
    replyFrom: v['reply-from'],
    bodyBytesMax: v['body-bytes-max'],
    mailboxMax: v['mailbox-max'],
    inflightMax: v['inflight-max'],
    snapshotEveryRecords: v['snapshot-every'],
    segmentBytesMax: v['segment-bytes'],
    replicationRingBytes: v['replication-ring-bytes'],
    heapGrowthPercent: v['heap-growth-percent'],
    repairLog: v['repair-log'],
    events: v.events,
    clusterKeys: v['cluster-key-file'] ?? null,
    logLevel: v['log-level'],
  });
}
