/**
 * Loadgen settings: one flag table (@txtest/cli; the cluster and NATS settings are the
 * node's own table, so the same environment variables), validated once into a frozen
 * object. A bad one is a CliError whose message is one sentence; the CLI prints it and
 * exits with code 2. The drill takes the same load flags with its own defaults.
 */
import { CliError, expected, type Command, type Flag, type Values } from '@txtest/cli';
import { defaultNodeIds, isSubjectToken, SHARDS_MAX } from '@txtest/protocol';
import { describeNats, NATS_FLAGS, natsSettings, SUBJECT_FLAGS, type NatsSettings } from '@txtest/transport-nats';

export type WorkloadName = 'account' | 'orderbook' | 'register';
export const WORKLOADS = ['account', 'orderbook', 'register'] as const satisfies readonly WorkloadName[];

export interface LoadgenArgs {
  readonly nats: Readonly<NatsSettings>;
  readonly prefix: string;
  readonly cluster: string;
  /** Shards of the cluster (docs/SHARDING.md): each update goes to the pair that owns its asset. */
  readonly shards: number;
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

/** The defaults a load run and the drill set differently. */
export interface LoadDefaults {
  readonly inFlight: string;
  readonly batch: boolean;
  readonly assets: string;
  readonly interval: string;
  readonly attemptTimeout: string;
  readonly backoffInitial: string;
  readonly backoffMax: string;
}

const RUN_DEFAULTS: LoadDefaults = {
  inFlight: '64',
  batch: true,
  assets: '10000',
  interval: '1000',
  attemptTimeout: '250',
  backoffInitial: '5',
  backoffMax: '100',
};

function nodeIds(raw: string): string[] {
  const ids = raw.split(',').filter((x) => x !== '');
  if (ids.some((n) => !isSubjectToken(n))) throw expected('node ids (letters, digits, _ or -) separated by commas', raw);
  return ids;
}

function reportFile(raw: string): string {
  if (raw === '-') throw expected('a file name (only --json writes to stdout)', raw);
  return raw;
}

function assetPrefix(raw: string): string {
  if (!/^[A-Za-z0-9._:-]*$/.test(raw)) throw expected('characters of [A-Za-z0-9._:-]', raw);
  return raw;
}

/** The shape of the load, in the order --help lists them. */
export function loadFlags(d: LoadDefaults) {
  return [
    { name: 'workload', type: 'enum', values: WORKLOADS, default: 'account', help: 'what the updates do' },
    {
      name: 'shards',
      type: 'int',
      min: 1,
      max: SHARDS_MAX,
      default: '1',
      help: "shards of the cluster, as the nodes' --shards: each update goes to the pair that owns its asset",
    },
    { name: 'clients', type: 'int', min: 1, max: 1024, default: '1', help: 'client connections; more than 1 run in worker threads' },
    {
      name: 'workers',
      type: 'int',
      min: 0,
      max: 1024,
      defaultHelp: 'min(clients, cores) when clients > 1, else 0',
      help: 'worker threads for the clients (0: all in the main thread)',
    },
    { name: 'in-flight', type: 'int', min: 1, max: 1_000_000, defaultHelp: d.inFlight, help: 'closed loop: updates in flight over all clients' },
    {
      name: 'rate',
      type: 'number',
      above: 0,
      max: 10_000_000,
      value: 'n/s',
      help: 'open loop: intended updates per second (latency from the intended send time)',
    },
    { name: 'warmup', type: 'duration', unit: 's', min: 0, max: 86_400_000, default: '1', help: 'load before measuring (rounded up to whole intervals)' },
    { name: 'batch', type: 'bool', onOff: true, default: d.batch, help: 'client batching (updates of one event-loop turn in one message)' },
    { name: 'assets', type: 'int', min: 1, max: 10_000_000, default: d.assets, help: 'account: accounts; register: registers' },
    { name: 'zipf', type: 'number', min: 0, max: 10, default: '0', value: 's', help: 'Zipf exponent of the asset choice (0: uniform)' },
    { name: 'instruments', type: 'int', min: 1, max: 100_000, default: '10', help: 'orderbook: instruments (one book each)' },
    { name: 'json', type: 'string', value: 'file', help: 'write every figure and the settings as JSON ("-": stdout, instead of the table)' },
    { name: 'html', type: 'string', value: 'file', parse: reportFile, help: 'write a self-contained HTML report with plots' },
    { name: 'interval', type: 'duration', unit: 'ms', min: 50, max: 60_000, whole: true, default: d.interval, help: 'length of one time-series interval' },
    {
      name: 'attempt-timeout',
      type: 'duration',
      unit: 'ms',
      min: 1,
      max: 600_000,
      whole: true,
      default: d.attemptTimeout,
      help: 'how long one attempt waits before a retry (same id)',
    },
    {
      name: 'deadline',
      type: 'duration',
      unit: 'ms',
      min: 1,
      max: 3_600_000,
      whole: true,
      default: '30000',
      help: 'how long an update keeps retrying before it counts as a timeout',
    },
    { name: 'backoff-initial', type: 'duration', unit: 'ms', min: 0, max: 60_000, default: d.backoffInitial, help: 'first retry back-off (doubles, jittered)' },
    { name: 'backoff-max', type: 'duration', unit: 'ms', min: 0, max: 60_000, default: d.backoffMax, help: 'longest retry back-off' },
    { name: 'seed', type: 'int', min: 0, max: 2 ** 31 - 1, defaultHelp: 'random', help: "seed of the workload's random choices" },
    { name: 'asset-prefix', type: 'string', value: 'p', parse: assetPrefix, defaultHelp: '"" (a fresh tag with --audit)', help: 'prepended to asset ids' },
    { name: 'progress', type: 'enum', values: ['auto', 'on', 'off'], default: 'auto', help: 'live one-line progress on stderr (auto: when it is a terminal)' },
  ] as const satisfies readonly Flag[];
}

/** The flags a load run has and the drill sets itself: where to send the load, for how long, audited or not. */
export const TARGET_FLAGS = [
  ...NATS_FLAGS,
  ...SUBJECT_FLAGS,
  {
    name: 'nodes',
    type: 'string',
    value: 'ids',
    parse: nodeIds,
    defaultHelp: 'n1,n2; with --shards S, s<k>-n1,s<k>-n2 for each shard k',
    help: 'node ids to poll for status (primaries, failovers, digests)',
  },
  { name: 'duration', type: 'duration', unit: 's', above: 0, max: 86_400_000, default: '5', help: 'measured time' },
  { name: 'audit', type: 'bool', help: 'remember every request and check the final states (exit 1 on a violation)' },
] as const satisfies readonly Flag[];

const LOAD_FLAGS = [...TARGET_FLAGS, ...loadFlags(RUN_DEFAULTS)] as const;

export const LOAD_COMMAND: Command<typeof LOAD_FLAGS> = {
  prog: 'txtest-loadgen',
  usage: [
    '[flags]                 load a TxTest cluster and report',
    'drill [flags]           SIGKILL the primary of a private pair under load (drill --help)',
    "req <subject> '<json>'  one request by hand (tx, query, status.<node>; req --help)",
  ],
  about: [
    'Closed loop (--in-flight) keeps a fixed window of updates outstanding; open loop (--rate)',
    'sends at a fixed arrival rate and measures each latency from its intended send time, so a',
    'stall counts against every update it delays (coordinated omission corrected, as wrk2).',
  ],
  flags: LOAD_FLAGS,
};

/** What a load run takes from TARGET_FLAGS and the drill fixes itself. */
export interface Target {
  readonly nats: NatsSettings;
  readonly prefix: string;
  readonly cluster: string;
  /** Null: the default ids of every shard. */
  readonly nodes: readonly string[] | null;
  readonly durationS: number;
  readonly audit: boolean;
}

/**
 * The settings of a load run from its load flags and target. `cores` decides the default
 * worker count, `tag` the asset prefix under --audit (both injected so the result is
 * deterministic in tests).
 */
export function loadArgs(v: Values<ReturnType<typeof loadFlags>>, t: Target, d: LoadDefaults, cores: number, tag: string): LoadgenArgs {
  const { clients } = v;
  if (v.workers !== undefined && v.workers > clients) throw new CliError(`--workers (${v.workers}) must be at most --clients (${clients})`);
  const workers = v.workers ?? (clients > 1 ? Math.min(clients, Math.max(1, cores)) : 0);
  if (v['in-flight'] !== undefined && v.rate !== undefined) throw new CliError('--in-flight (closed loop) and --rate (open loop) exclude each other: give one');
  const ratePerS = v.rate ?? null;
  const inFlight = ratePerS !== null ? null : (v['in-flight'] ?? Number(d.inFlight));
  if (inFlight !== null && inFlight < clients)
    throw new CliError(`--in-flight (${inFlight}) must be at least --clients (${clients}): every client needs one update in flight`);
  return Object.freeze({
    nats: Object.freeze({ ...t.nats }),
    prefix: t.prefix,
    cluster: t.cluster,
    shards: v.shards,
    nodes: Object.freeze(t.nodes === null ? defaultNodeIds(v.shards) : [...t.nodes]),
    workload: v.workload,
    clients,
    workers,
    inFlight,
    ratePerS,
    durationS: t.durationS,
    warmupS: v.warmup / 1000,
    batch: v.batch,
    assets: v.assets,
    instruments: v.instruments,
    zipfS: v.zipf,
    audit: t.audit,
    jsonFile: v.json ?? null,
    htmlFile: v.html ?? null,
    intervalMs: v.interval,
    attemptTimeoutMs: v['attempt-timeout'],
    deadlineMs: v.deadline,
    backoffInitialMs: v['backoff-initial'],
    backoffMaxMs: v['backoff-max'],
    seed: v.seed ?? Math.floor(Math.random() * 2 ** 31),
    assetPrefix: v['asset-prefix'] ?? (t.audit ? `${tag}-` : ''),
    progress: v.progress,
  });
}

/** The settings of a load run from all of its flags. */
export function runArgs(v: Values<typeof LOAD_FLAGS>, cores: number, tag: string): LoadgenArgs {
  const target: Target = { nats: natsSettings(v), prefix: v.prefix, cluster: v.cluster, nodes: v.nodes ?? null, durationS: v.duration / 1000, audit: v.audit };
  return loadArgs(v, target, RUN_DEFAULTS, cores, tag);
}

/** The settings as they go into the JSON report: no secrets. */
export function publicSettings(a: LoadgenArgs): Record<string, unknown> {
  const { nats, ...rest } = a;
  return { nats: describeNats(nats), ...rest };
}
