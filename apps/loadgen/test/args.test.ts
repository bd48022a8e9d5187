/** The CLI's flags: defaults, and a bad flag is one sentence (exit code 2 in the CLI). */
import { describe, expect, it } from 'vitest';
import { CliError, helpText, parseCommand, type Command, type Flag, type Values } from '@txtest/cli';
import { LOAD_COMMAND, runArgs, type LoadgenArgs } from '../src/args';
import { DRILL_COMMAND, drillPlan } from '../src/drill';

/** The values of a command line (never --help or --version here). */
function valuesOf<const F extends readonly Flag[]>(cmd: Command<F>, argv: string[], env: NodeJS.ProcessEnv): Values<F> {
  const p = parseCommand(cmd, argv, env);
  if (p.kind !== 'run') throw new Error(`${argv.join(' ')} asked for ${p.kind}`);
  return p.values;
}

function parseArgs(argv: string[], env: NodeJS.ProcessEnv = {}, cores = 2, tag = 'run'): LoadgenArgs {
  return runArgs(valuesOf(LOAD_COMMAND, argv, env), cores, tag);
}

function refusal(argv: string[]): string {
  try {
    parseArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return (err as Error).message;
  }
  throw new Error(`parseArgs accepted ${JSON.stringify(argv)}`);
}

describe('loadgen arguments', () => {
  it('defaults to a closed loop of 64 account credits in flight from one client in the main thread', () => {
    const a = parseArgs([], {}, 2, 'tag');
    expect(a).toMatchObject({ workload: 'account', inFlight: 64, ratePerS: null, clients: 1, workers: 0, batch: true, audit: false, assetPrefix: '' });
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('routes over --shards S, polling every shard pair of the default ids unless --nodes names them', () => {
    expect(parseArgs([])).toMatchObject({ shards: 1, nodes: ['n1', 'n2'] });
    expect(parseArgs(['--shards', '2'])).toMatchObject({ shards: 2, nodes: ['s0-n1', 's0-n2', 's1-n1', 's1-n2'] });
    expect(parseArgs(['--shards', '2', '--nodes', 'a,b,c,d']).nodes).toEqual(['a', 'b', 'c', 'd']);
    expect(refusal(['--shards', '0'])).toMatch(/--shards/);
    expect(refusal(['--shards', '1025'])).toMatch(/--shards/);
  });

  it('reads the cluster and NATS settings from the same environment variables as the node', () => {
    const a = parseArgs([], {
      TXTEST_NATS_URL: 'nats://10.0.0.1:4222',
      TXTEST_CLUSTER: 'c2',
      TXTEST_PREFIX: 'p2',
      TXTEST_NATS_USER: 'u',
      TXTEST_NATS_PASSWORD: 'pw',
    });
    expect(a.nats).toEqual({ url: 'nats://10.0.0.1:4222', user: 'u', password: 'pw' });
    expect([a.cluster, a.prefix]).toEqual(['c2', 'p2']);
  });

  it('runs several clients in worker threads, at most one per core unless told', () => {
    expect(parseArgs(['--clients', '4'], {}, 2).workers).toBe(2);
    expect(parseArgs(['--clients', '4', '--workers', '4'], {}, 2).workers).toBe(4);
    expect(parseArgs(['--clients', '4', '--workers', '0'], {}, 2).workers).toBe(0);
  });

  it('open loop: --rate replaces the in-flight window; --audit gives the run fresh asset ids', () => {
    const a = parseArgs(['--rate=5000', '--audit', '--workload', 'orderbook', '--zipf', '1.1'], {}, 2, 'abc');
    expect(a).toMatchObject({ ratePerS: 5000, inFlight: null, audit: true, assetPrefix: 'abc-', workload: 'orderbook', zipfS: 1.1 });
  });

  it.each([
    [['--rate', 'abc'], '--rate: expected a number > 0 and <= 10000000, got "abc"'],
    [['--rate', '0'], '--rate: expected a number > 0'],
    [['--in-flight', '1.5'], '--in-flight: expected an integer between 1 and 1000000, got "1.5"'],
    [['--in-flight', '8', '--rate', '100'], '--in-flight (closed loop) and --rate (open loop) exclude each other: give one'],
    [['--workload', 'bank'], '--workload: expected one of account, orderbook, register, got "bank"'],
    [['--batch', 'maybe'], '--batch: expected on or off, got "maybe"'],
    [['--frobnicate'], '--frobnicate: unknown flag (see --help)'],
    [['--duration'], '--duration: missing value'],
    [['--duration', '--audit'], '--duration: missing value (the next argument "--audit" is a flag'],
    [['--nats', 'http://x'], '--nats: expected a URL such as nats://127.0.0.1:4222, got "http://x"'],
    [['--clients', '8', '--in-flight', '4'], '--in-flight (4) must be at least --clients (8)'],
    [['extra'], 'unexpected argument "extra"'],
  ])('%j is refused in one sentence', (argv, expected) => {
    const msg = refusal(argv);
    expect(msg).toContain(expected);
    expect(msg).not.toContain('\n');
  });

  it('--help lists every flag with its default', () => {
    const h = helpText(LOAD_COMMAND);
    for (const flag of [
      '--nats',
      '--clients',
      '--in-flight',
      '--rate',
      '--duration',
      '--warmup',
      '--batch',
      '--workload',
      '--assets',
      '--zipf',
      '--instruments',
      '--audit',
      '--json',
      '--html',
    ])
      expect(h).toContain(flag);
    expect(h).toContain('coordinated omission');
  });

  it('the drill refuses the flags it sets itself, before starting anything', () => {
    const drillArgs = (argv: string[]) => drillPlan(valuesOf(DRILL_COMMAND, argv, {}));
    expect(() => drillArgs(['--nats', 'nats://127.0.0.1:4222'])).toThrow(
      new CliError('--nats: set by the drill itself (it runs its own nats-server and pair)'),
    );
    expect(() => drillArgs(['--kills', '0'])).toThrow('--kills: expected an integer between 1 and 10000, got "0"');
    expect(() => drillArgs(['--in-flight', '8', '--rate', '100'])).toThrow('--in-flight (closed loop) and --rate (open loop) exclude each other');
  });
});
