/**
 * Node settings (PROTOCOL.md section 9): each a flag and an environment variable,
 * validated once at start into a frozen object. A bad setting is one sentence naming
 * it, and a non-zero exit.
 */
import type { FsyncPolicy } from '@txtest/cluster';
import { isSubjectToken } from '@txtest/protocol';

export interface NodeConfig {
  readonly id: string;
  readonly peer: string | null;
  readonly standalone: boolean;
  readonly cluster: string;
  readonly prefix: string;
  readonly nats: {
    url: string;
    credsFile?: string;
    user?: string;
    password?: string;
    token?: string;
    tlsCaFile?: string;
    tlsCertFile?: string;
    tlsKeyFile?: string;
  };
  readonly dataDir: string;
  readonly http: { host: string; port: number };
  readonly heartbeatIntervalMs: number;
  readonly heartbeatMissed: number;
  readonly arbiter: 'kv' | 'off' | 'auto';
  readonly forcePrimary: boolean;
  readonly fsync: FsyncPolicy;
  readonly ack: 'received' | 'logged';
  readonly bodyBytesMax: number;
  readonly mailboxMax: number;
  readonly inflightMax: number;
  readonly snapshotEveryRecords: number;
  readonly segmentBytesMax: number;
  readonly replicationRingBytes: number;
  readonly repairLog: boolean;
  readonly events: boolean;
  readonly logLevel: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

interface Setting {
  flag: string;
  env: string;
  kind: 'string' | 'bool' | 'int';
  help: string;
  default?: string;
}

/** Every setting, in the order `--help` lists them. */
export const SETTINGS: readonly Setting[] = [
  { flag: 'id', env: 'TXTEST_NODE_ID', kind: 'string', help: 'this node\'s id (required; letters, digits, _ and -)' },
  { flag: 'peer', env: 'TXTEST_PEER_ID', kind: 'string', help: 'the other node\'s id (required unless --standalone)' },
  { flag: 'standalone', env: 'TXTEST_STANDALONE', kind: 'bool', help: 'run a single node with no standby (role solo)' },
  { flag: 'cluster', env: 'TXTEST_CLUSTER', kind: 'string', default: 'default', help: 'cluster name (subject token)' },
  { flag: 'prefix', env: 'TXTEST_PREFIX', kind: 'string', default: 'txtest', help: 'subject prefix' },
  { flag: 'nats', env: 'TXTEST_NATS_URL', kind: 'string', default: 'nats://127.0.0.1:4222', help: 'NATS server URL(s), comma-separated' },
  { flag: 'nats-creds', env: 'TXTEST_NATS_CREDS', kind: 'string', help: 'NATS credentials file' },
  { flag: 'nats-user', env: 'TXTEST_NATS_USER', kind: 'string', help: 'NATS user name' },
  { flag: 'nats-password', env: 'TXTEST_NATS_PASSWORD', kind: 'string', help: 'NATS password (prefer the env variable)' },
  { flag: 'nats-token', env: 'TXTEST_NATS_TOKEN', kind: 'string', help: 'NATS token (prefer the env variable)' },
  { flag: 'nats-tls-ca', env: 'TXTEST_NATS_TLS_CA', kind: 'string', help: 'CA file to verify the NATS server' },
  { flag: 'nats-tls-cert', env: 'TXTEST_NATS_TLS_CERT', kind: 'string', help: 'client certificate file for NATS TLS' },
  { flag: 'nats-tls-key', env: 'TXTEST_NATS_TLS_KEY', kind: 'string', help: 'client key file for NATS TLS' },
  { flag: 'data-dir', env: 'TXTEST_DATA_DIR', kind: 'string', help: 'log, snapshots and epoch record (default ./data/<id>)' },
  { flag: 'http', env: 'TXTEST_HTTP', kind: 'string', default: '127.0.0.1:7070', help: 'HTTP status address host:port, a port, or 0 for an ephemeral port' },
  { flag: 'heartbeat-interval-ms', env: 'TXTEST_HEARTBEAT_INTERVAL_MS', kind: 'int', default: '50', help: 'heartbeat period, 5..100 ms' },
  { flag: 'heartbeat-missed', env: 'TXTEST_HEARTBEAT_MISSED', kind: 'int', default: '4', help: 'missed heartbeats before the peer counts as lost, 2..100' },
  { flag: 'arbiter', env: 'TXTEST_ARBITER', kind: 'string', help: 'kv or off (default: kv when JetStream is available)' },
  { flag: 'force-primary', env: 'TXTEST_FORCE_PRIMARY', kind: 'bool', help: 'start as primary without the peer, or over the pair\'s refusal when no surviving log holds the newest epoch (operator override, logged loudly)' },
  { flag: 'fsync', env: 'TXTEST_FSYNC', kind: 'string', default: '5ms', help: 'always, never, or an interval such as 5ms' },
  { flag: 'ack', env: 'TXTEST_ACK', kind: 'string', default: 'received', help: 'standby ack level: received or logged' },
  { flag: 'body-bytes-max', env: 'TXTEST_BODY_BYTES_MAX', kind: 'int', default: '65536', help: 'largest request body accepted' },
  { flag: 'mailbox-max', env: 'TXTEST_MAILBOX_MAX', kind: 'int', default: '10000', help: 'queued updates per asset before OVERLOADED' },
  { flag: 'inflight-max', env: 'TXTEST_INFLIGHT_MAX', kind: 'int', default: '100000', help: 'updates in flight node-wide before OVERLOADED' },
  { flag: 'snapshot-every', env: 'TXTEST_SNAPSHOT_EVERY', kind: 'int', default: '500000', help: 'records between background snapshots (0: never)' },
  { flag: 'segment-bytes', env: 'TXTEST_SEGMENT_BYTES', kind: 'int', default: '67108864', help: 'log segment size' },
  { flag: 'replication-ring-bytes', env: 'TXTEST_REPLICATION_RING_BYTES', kind: 'int', default: '8388608', help: 'recent records kept in memory for resends and a catching-up standby (older ones come from the log)' },
  { flag: 'events', env: 'TXTEST_EVENTS', kind: 'string', default: 'on', help: 'publish committed updates on P.C.events.<asset>: on or off' },
  { flag: 'repair-log', env: 'TXTEST_REPAIR_LOG', kind: 'bool', help: 'truncate the log at a corrupt record instead of refusing to start' },
  { flag: 'log-level', env: 'TXTEST_LOG_LEVEL', kind: 'string', default: 'info', help: 'trace, debug, info, warn, error' },
];

export function helpText(): string {
  const lines = ['Usage: txtest-node [flags]   (each flag also reads its environment variable)', ''];
  for (const s of SETTINGS) {
    const flag = s.kind === 'bool' ? `--${s.flag}` : `--${s.flag} <${s.kind === 'int' ? 'n' : 'value'}>`;
    lines.push(`  ${flag.padEnd(34)} ${s.env.padEnd(30)} ${s.help}${s.default !== undefined ? ` [${s.default}]` : ''}`);
  }
  return lines.join('\n');
}

/** Parses argv and env into raw strings per flag; unknown flags are an error. */
function collect(argv: readonly string[], env: NodeJS.ProcessEnv): Map<string, string> {
  const byFlag = new Map(SETTINGS.map((s) => [s.flag, s]));
  const raw = new Map<string, string>();
  for (const s of SETTINGS) {
    const v = env[s.env];
    if (v !== undefined && v !== '') raw.set(s.flag, v);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument "${arg}" (flags start with --; see --help)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const s = byFlag.get(name);
    if (s === undefined) throw new ConfigError(`unknown flag --${name} (see --help)`);
    if (s.kind === 'bool') {
      raw.set(name, eq < 0 ? 'true' : arg.slice(eq + 1));
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`flag --${name} needs a value`);
    raw.set(name, value);
  }
  return raw;
}

function bool(flag: string, v: string | undefined): boolean {
  if (v === undefined) return false;
  if (['1', 'true', 'yes', 'on'].includes(v.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(v.toLowerCase())) return false;
  throw new ConfigError(`--${flag} must be true or false, not "${v}"`);
}

function onOff(flag: string, v: string): boolean {
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw new ConfigError(`--${flag} must be on or off, not "${v}"`);
}

function int(flag: string, v: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(v)) throw new ConfigError(`--${flag} must be a whole number, not "${v}"`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(`--${flag} must be between ${min} and ${max}, not ${n}`);
  return n;
}

export function parseFsync(v: string): FsyncPolicy {
  if (v === 'always') return { kind: 'always' };
  if (v === 'never') return { kind: 'never' };
  const m = /^(\d+)ms$/.exec(v);
  if (m !== null && Number(m[1]) >= 1 && Number(m[1]) <= 60_000) return { kind: 'interval', ms: Number(m[1]) };
  throw new ConfigError(`--fsync must be always, never or an interval of 1..60000 ms such as 5ms, not "${v}"`);
}

function parseHttp(v: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d+)$/.exec(v);
  if (m === null) throw new ConfigError(`--http must be host:port, a port, or 0, not "${v}"`);
  const port = Number(m[2]);
  if (port > 65535) throw new ConfigError(`--http port must be at most 65535, not ${port}`);
  return { host: m[1] ?? '127.0.0.1', port };
}

export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const raw = collect(argv, env);
  const get = (flag: string): string | undefined => raw.get(flag) ?? SETTINGS.find((s) => s.flag === flag)?.default;
  const id = get('id');
  if (id === undefined) throw new ConfigError('--id is required (or TXTEST_NODE_ID): the name of this node, e.g. n1');
  if (!isSubjectToken(id)) throw new ConfigError(`--id must be letters, digits, _ or -, not "${id}"`);
  const standalone = bool('standalone', get('standalone'));
  const peer = get('peer') ?? null;
  if (!standalone && peer === null) throw new ConfigError('--peer is required unless --standalone (or TXTEST_PEER_ID): the id of the other node');
  if (peer !== null && !isSubjectToken(peer)) throw new ConfigError(`--peer must be letters, digits, _ or -, not "${peer}"`);
  if (peer !== null && peer === id) throw new ConfigError(`--peer must differ from --id (both are "${id}")`);
  const cluster = get('cluster')!;
  if (!isSubjectToken(cluster)) throw new ConfigError(`--cluster must be letters, digits, _ or -, not "${cluster}"`);
  const prefix = get('prefix')!;
  if (!isSubjectToken(prefix)) throw new ConfigError(`--prefix must be letters, digits, _ or -, not "${prefix}"`);
  const url = get('nats')!;
  for (const u of url.split(',')) {
    if (!/^(nats|tls|ws|wss):\/\/[^\s]+$|^[^\s/:]+:\d+$/.test(u)) throw new ConfigError(`--nats must be a URL such as nats://127.0.0.1:4222, not "${u}"`);
  }
  const arbiterRaw = get('arbiter') ?? 'auto';
  if (!['kv', 'off', 'auto'].includes(arbiterRaw)) throw new ConfigError(`--arbiter must be kv or off, not "${arbiterRaw}"`);
  const ack = get('ack')!;
  if (ack !== 'received' && ack !== 'logged') throw new ConfigError(`--ack must be received or logged, not "${ack}"`);
  const logLevel = get('log-level')!;
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel)) throw new ConfigError(`--log-level must be trace, debug, info, warn or error, not "${logLevel}"`);
  const nats: NodeConfig['nats'] = { url };
  const optional: [keyof NodeConfig['nats'], string][] = [
    ['credsFile', 'nats-creds'], ['user', 'nats-user'], ['password', 'nats-password'], ['token', 'nats-token'],
    ['tlsCaFile', 'nats-tls-ca'], ['tlsCertFile', 'nats-tls-cert'], ['tlsKeyFile', 'nats-tls-key'],
  ];
  for (const [key, flag] of optional) {
    const v = get(flag);
    if (v !== undefined) nats[key] = v;
  }
  if (nats.password !== undefined && nats.user === undefined) throw new ConfigError('--nats-password needs --nats-user');
  const fsync = parseFsync(get('fsync')!);
  if (ack === 'logged' && fsync.kind === 'never') throw new ConfigError('--ack logged needs the log to be synced: use --fsync always or an interval, not never');
  return Object.freeze({
    id,
    peer: standalone ? null : peer,
    standalone,
    cluster,
    prefix,
    nats: Object.freeze(nats),
    dataDir: get('data-dir') ?? `./data/${id}`,
    http: parseHttp(get('http')!),
    heartbeatIntervalMs: int('heartbeat-interval-ms', get('heartbeat-interval-ms')!, 5, 100),
    heartbeatMissed: int('heartbeat-missed', get('heartbeat-missed')!, 2, 100),
    arbiter: arbiterRaw as NodeConfig['arbiter'],
    forcePrimary: bool('force-primary', get('force-primary')),
    fsync,
    ack,
    bodyBytesMax: int('body-bytes-max', get('body-bytes-max')!, 1024, 1024 * 1024),
    mailboxMax: int('mailbox-max', get('mailbox-max')!, 1, 10_000_000),
    inflightMax: int('inflight-max', get('inflight-max')!, 1, 10_000_000),
    snapshotEveryRecords: int('snapshot-every', get('snapshot-every')!, 0, 1_000_000_000),
    segmentBytesMax: int('segment-bytes', get('segment-bytes')!, 4096, 2 ** 31),
    replicationRingBytes: int('replication-ring-bytes', get('replication-ring-bytes')!, 0, 2 ** 31),
    repairLog: bool('repair-log', get('repair-log')),
    events: onOff('events', get('events')!),
    logLevel,
  });
}
