/**
 * Loadgen settings: flags (and, for the cluster and NATS settings, the same environment
 * variables the node reads), validated once into a frozen object. A bad one is an
 * ArgError whose message is one sentence; the CLI prints it and exits with code 2.
 */
import { DEFAULT_CLUSTER, DEFAULT_PREFIX, isSubjectToken } from '@txtest/protocol';
import { describeNats, type NatsSettings } from '@txtest/transport-nats';

export type WorkloadName = 'account' | 'orderbook' | 'register';
export const WORKLOADS: readonly WorkloadName[] = ['account', 'orderbook', 'register'];


export interface LoadgenArgs {
  readonly nats: Readonly<NatsSettings>;
  readonly prefix: string;
  readonly cluster: string;
  /** Node ids whose status subjects are polled for the current primary (and the audit's digests). */
  readonly nodes: readonly string[];
  readonly workload: WorkloadName;
  readonly clients: number;
  /** Worker threads the clients are spread over; 0 runs them in the main thread. */
  readonly workers: number;
  /** Closed loop: updates in flight over all clients (null in open loop). */
  readonly inFlight: number | null;
  /** Open loop: intended arrivals per second over all clients (null in closed loop). */
  readonly ratePerS: number | null;
  readonly durationS: number;
  readonly warmupS: number;
  readonly batch: boolean;
  readonly assets: number;
  readonly instruments: number;
  /** Zipf exponent of the asset choice; 0 means uniform. */
  readonly zipfS: number;
  readonly audit: boolean;
  readonly jsonFile: string | null;
  readonly htmlFile: string | null;
  readonly intervalMs: number;
  readonly attemptTimeoutMs: number;
  readonly deadlineMs: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly seed: number;
  /** Prepended to every asset id; a fresh tag under --audit so the run starts from empty assets. */
  readonly assetPrefix: string;
  readonly progress: 'auto' | 'on' | 'off';
}

export class ArgError extends Error {
  override readonly name = 'ArgError';
}

interface Flag {
  name: string;
  env?: string;
  value?: string;
  help: string;
  def?: string;
}

/** Every flag, in the order --help lists them. */
const FLAGS: readonly Flag[] = [
  { name: 'nats', env: 'TXTEST_NATS_URL', value: 'url', help: 'NATS server URL(s), comma-separated', def: 'nats://127.0.0.1:4222' },
  { name: 'nats-creds', env: 'TXTEST_NATS_CREDS', value: 'file', help: 'NATS credentials file' },
  { name: 'nats-user', env: 'TXTEST_NATS_USER', value: 'user', help: 'NATS user name' },
  { name: 'nats-password', env: 'TXTEST_NATS_PASSWORD', value: 'pw', help: 'NATS password (prefer the env variable)' },
  { name: 'nats-token', env: 'TXTEST_NATS_TOKEN', value: 'token', help: 'NATS token (prefer the env variable)' },
  { name: 'nats-tls-ca', env: 'TXTEST_NATS_TLS_CA', value: 'file', help: 'CA file to verify the NATS server' },
  { name: 'nats-tls-cert', env: 'TXTEST_NATS_TLS_CERT', value: 'file', help: 'client certificate for NATS TLS' },
  { name: 'nats-tls-key', env: 'TXTEST_NATS_TLS_KEY', value: 'file', help: 'client key for NATS TLS' },
  { name: 'prefix', env: 'TXTEST_PREFIX', value: 'p', help: 'subject prefix', def: 'txtest' },
  { name: 'cluster', env: 'TXTEST_CLUSTER', value: 'c', help: 'cluster name', def: 'default' },
  { name: 'nodes', value: 'ids', help: 'node ids to poll for status (primary, failovers, digests)', def: 'n1,n2' },
  { name: 'workload', value: 'w', help: 'account | orderbook | register', def: 'account' },
  { name: 'clients', value: 'n', help: 'client connections; more than 1 run in worker threads', def: '1' },
  { name: 'workers', value: 'n', help: 'worker threads for the clients (0: all in the main thread)', def: 'min(clients, cores) when clients > 1, else 0' },
  { name: 'in-flight', value: 'n', help: 'closed loop: updates in flight over all clients', def: '64' },
  { name: 'rate', value: 'n/s', help: 'open loop: intended updates per second (latency from the intended send time)' },
  { name: 'duration', value: 's', help: 'measured seconds', def: '5' },
  { name: 'warmup', value: 's', help: 'seconds of load before measuring (rounded up to whole intervals)', def: '1' },
  { name: 'batch', value: 'on|off', help: 'client batching (updates of one event-loop turn in one message)', def: 'on' },
  { name: 'assets', value: 'n', help: 'account: accounts; register: registers', def: '10000' },
  { name: 'zipf', value: 's', help: 'Zipf exponent of the asset choice (0: uniform)', def: '0' },
  { name: 'instruments', value: 'n', help: 'orderbook: instruments (one book each)', def: '10' },
  { name: 'audit', help: 'remember every request and check the final states (exit 1 on a violation)' },
  { name: 'json', value: 'file', help: 'write every figure and the settings as JSON ("-": stdout, instead of the table)' },
  { name: 'html', value: 'file', help: 'write a self-contained HTML report with plots' },
  { name: 'interval', value: 'ms', help: 'length of one time-series interval', def: '1000' },
  { name: 'attempt-timeout', value: 'ms', help: 'how long one attempt waits before a retry (same id)', def: '250' },
  { name: 'deadline', value: 'ms', help: 'how long an update keeps retrying before it counts as a timeout', def: '30000' },
  { name: 'backoff-initial', value: 'ms', help: 'first retry back-off (doubles, jittered)', def: '5' },
  { name: 'backoff-max', value: 'ms', help: 'longest retry back-off', def: '100' },
  { name: 'seed', value: 'n', help: 'seed of the workload\'s random choices', def: 'random' },
  { name: 'asset-prefix', value: 'p', help: 'prepended to asset ids', def: '"" (a fresh tag with --audit)' },
  { name: 'progress', value: 'auto|on|off', help: 'live one-line progress on stderr (auto: when it is a terminal)', def: 'auto' },
];

export function helpText(): string {
  const rows = FLAGS.map((f) => {
    const left = `  --${f.name}${f.value === undefined ? '' : ` <${f.value}>`}`;
    const right = `${f.help}${f.def === undefined ? '' : ` [${f.def}]`}${f.env === undefined ? '' : ` (env ${f.env})`}`;
    return `${left.padEnd(28)}${right}`;
  });
  return [
    'Usage: txtest-loadgen [flags]                 load a TxTest cluster and report',
    '       txtest-loadgen drill [flags]           SIGKILL the primary of a private pair under load (drill --help)',
    "       txtest-loadgen req <subject> '<json>'  one request by hand (tx, query, status.<node>)",
    '',
    'Closed loop (--in-flight) keeps a fixed window of updates outstanding; open loop (--rate)',
    'sends at a fixed arrival rate and measures each latency from its intended send time, so a',
    'stall counts against every update it delays (coordinated omission corrected, as wrk2).',
    '',
    ...rows,
  ].join('\n');
}

const BY_NAME = new Map(FLAGS.map((f) => [f.name, f]));

function collect(argv: readonly string[], env: NodeJS.ProcessEnv): Map<string, string> {
  const raw = new Map<string, string>();
  for (const f of FLAGS) {
    const v = f.env === undefined ? undefined : env[f.env];
    if (v !== undefined && v !== '') raw.set(f.name, v);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ArgError(`unexpected argument "${arg}" (flags start with --; see --help)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const f = BY_NAME.get(name);
    if (f === undefined) throw new ArgError(`unknown flag --${name} (see --help)`);
    if (f.value === undefined) {
      raw.set(name, eq < 0 ? 'on' : arg.slice(eq + 1));
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ArgError(`--${name} needs a value (${f.value})`);
    raw.set(name, value);
  }
  return raw;
}

/** A number within [min, max]; whole when `int`. */
export function numberFlag(name: string, v: string, min: number, max: number, int: boolean, minExclusive = false): number {
  const n = v.trim() === '' ? NaN : Number(v);
  const kind = int ? 'a whole number' : 'a number';
  const lower = minExclusive ? `> ${min}` : `>= ${min}`;
  if (!Number.isFinite(n) || (int && !Number.isInteger(n)) || n < min || (minExclusive && n === min)) throw new ArgError(`--${name} must be ${kind} ${lower}, not "${v}"`);
  if (n > max) throw new ArgError(`--${name} must be at most ${max}, not ${v}`);
  return n;
}

function onOff(name: string, v: string): boolean {
  if (v === 'on' || v === 'true' || v === '1') return true;
  if (v === 'off' || v === 'false' || v === '0') return false;
  throw new ArgError(`--${name} must be on or off, not "${v}"`);
}

/**
 * Parses the flags of a load run. `cores` decides the default worker count, `tag`
 * the asset prefix under --audit (both injected so the result is deterministic in tests).
 */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}, cores = 2, tag = 'run'): LoadgenArgs {
  const raw = collect(argv, env);
  const get = (name: string): string | undefined => raw.get(name);
  const url = get('nats') ?? 'nats://127.0.0.1:4222';
  for (const u of url.split(',')) {
    if (!/^(nats|tls|ws|wss):\/\/[^\s]+$|^[^\s/:]+:\d+$/.test(u)) throw new ArgError(`--nats must be a URL such as nats://127.0.0.1:4222, not "${u}"`);
  }
  const nats: NatsSettings = { url };
  const optional: [keyof NatsSettings, string][] = [
    ['credsFile', 'nats-creds'], ['user', 'nats-user'], ['password', 'nats-password'], ['token', 'nats-token'],
    ['tlsCaFile', 'nats-tls-ca'], ['tlsCertFile', 'nats-tls-cert'], ['tlsKeyFile', 'nats-tls-key'],
  ];
  for (const [key, flag] of optional) {
    const v = get(flag);
    if (v !== undefined) nats[key] = v;
  }
  if (nats.password !== undefined && nats.user === undefined) throw new ArgError('--nats-password needs --nats-user');
  const prefix = get('prefix') ?? DEFAULT_PREFIX;
  if (!isSubjectToken(prefix)) throw new ArgError(`--prefix must be letters, digits, _ or -, not "${prefix}"`);
  const cluster = get('cluster') ?? DEFAULT_CLUSTER;
  if (!isSubjectToken(cluster)) throw new ArgError(`--cluster must be letters, digits, _ or -, not "${cluster}"`);
  const nodes = (get('nodes') ?? 'n1,n2').split(',').filter((x) => x !== '');
  for (const n of nodes) if (!isSubjectToken(n)) throw new ArgError(`--nodes must be node ids (letters, digits, _ or -) separated by commas, not "${get('nodes')}"`);

  const workload = get('workload') ?? 'account';
  if (!(WORKLOADS as readonly string[]).includes(workload)) throw new ArgError(`unknown workload "${workload}" (known: ${WORKLOADS.join(', ')})`);

  const clients = numberFlag('clients', get('clients') ?? '1', 1, 1024, true);
  const workersRaw = get('workers');
  const workers = workersRaw === undefined ? (clients > 1 ? Math.min(clients, Math.max(1, cores)) : 0) : numberFlag('workers', workersRaw, 0, clients, true);

  if (raw.has('in-flight') && raw.has('rate')) throw new ArgError('--in-flight (closed loop) and --rate (open loop) exclude each other: give one');
  const ratePerS = raw.has('rate') ? numberFlag('rate', get('rate')!, 0, 10_000_000, false, true) : null;
  const inFlight = ratePerS !== null ? null : numberFlag('in-flight', get('in-flight') ?? '64', 1, 1_000_000, true);
  if (inFlight !== null && inFlight < clients) throw new ArgError(`--in-flight (${inFlight}) must be at least --clients (${clients}): every client needs one update in flight`);

  const durationS = numberFlag('duration', get('duration') ?? '5', 0, 86_400, false, true);
  const warmupS = numberFlag('warmup', get('warmup') ?? '1', 0, 86_400, false);
  const batch = onOff('batch', get('batch') ?? 'on');
  const assets = numberFlag('assets', get('assets') ?? '10000', 1, 10_000_000, true);
  const instruments = numberFlag('instruments', get('instruments') ?? '10', 1, 100_000, true);
  const zipfS = numberFlag('zipf', get('zipf') ?? '0', 0, 10, false);
  const audit = onOff('audit', get('audit') ?? 'off');
  const jsonFile = get('json') ?? null;
  const htmlFile = get('html') ?? null;
  if (htmlFile === '-') throw new ArgError('--html needs a file name, not "-"');
  const intervalMs = numberFlag('interval', get('interval') ?? '1000', 50, 60_000, true);
  const attemptTimeoutMs = numberFlag('attempt-timeout', get('attempt-timeout') ?? '250', 1, 600_000, true);
  const deadlineMs = numberFlag('deadline', get('deadline') ?? '30000', 1, 3_600_000, true);
  const backoffInitialMs = numberFlag('backoff-initial', get('backoff-initial') ?? '5', 0, 60_000, false);
  const backoffMaxMs = numberFlag('backoff-max', get('backoff-max') ?? '100', 0, 60_000, false);
  const seedRaw = get('seed');
  const seed = seedRaw === undefined ? Math.floor(Math.random() * 2 ** 31) : numberFlag('seed', seedRaw, 0, 2 ** 31 - 1, true);
  const assetPrefix = get('asset-prefix') ?? (audit ? `${tag}-` : '');
  if (assetPrefix !== '' && !/^[A-Za-z0-9._:-]+$/.test(assetPrefix)) throw new ArgError(`--asset-prefix must be characters of [A-Za-z0-9._:-], not "${assetPrefix}"`);
  const progress = get('progress') ?? 'auto';
  if (progress !== 'auto' && progress !== 'on' && progress !== 'off') throw new ArgError(`--progress must be auto, on or off, not "${progress}"`);

  return Object.freeze({
    nats: Object.freeze(nats), prefix, cluster, nodes: Object.freeze(nodes), workload: workload as WorkloadName, clients, workers, inFlight, ratePerS,
    durationS, warmupS, batch, assets, instruments, zipfS, audit, jsonFile, htmlFile, intervalMs, attemptTimeoutMs, deadlineMs, backoffInitialMs, backoffMaxMs, seed, assetPrefix,
    progress: progress as LoadgenArgs['progress'],
  });
}

/** The settings as they go into the JSON report: no secrets. */
export function publicSettings(a: LoadgenArgs): Record<string, unknown> {
  const { nats, ...rest } = a;
  return { nats: describeNats(nats), ...rest };
}
