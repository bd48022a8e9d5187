/**
 * The flag library on one table with every type: strict refusals naming the flag, a
 * missing value that never takes the next flag, both boolean forms, durations, env
 * precedence, and the generated --help and --version.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { CliError, expected, parseCommand, refused, type Command, type Flag, type Values } from '../src/index';

function hostPort(raw: string): { host: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(raw);
  if (m === null) throw expected('host:port', raw);
  return { host: m[1]!, port: Number(m[2]) };
}

const FLAGS = [
  { name: 'id', env: 'T_ID', type: 'string', required: true, help: 'the id' },
  { name: 'peer', type: 'string', help: 'the peer' },
  { name: 'addr', type: 'string', parse: hostPort, default: '127.0.0.1:80', help: 'where' },
  { name: 'standalone', env: 'T_STANDALONE', type: 'bool', help: 'alone' },
  { name: 'batch', env: 'T_BATCH', type: 'bool', onOff: true, default: true, help: 'batching' },
  { name: 'missed', env: 'T_MISSED', type: 'int', min: 1, max: 100, default: '4', help: 'missed beats' },
  { name: 'rate', type: 'number', above: 0, help: 'per second' },
  { name: 'interval-ms', type: 'duration', min: 5, max: 100, whole: true, default: '50', help: 'period' },
  { name: 'timeout-s', type: 'duration', min: 1000, default: '20', help: 'how long' },
  { name: 'warmup', type: 'duration', help: 'a duration with no unit' },
  { name: 'ack', env: 'T_ACK', type: 'enum', values: ['received', 'logged'], default: 'received', help: 'ack level' },
  { name: 'nodes', type: 'list', default: 'n1,n2', help: 'node ids' },
  { name: 'node-arg', type: 'string', multiple: true, help: 'extra flag' },
  ...refused('set by the test itself', ['nats']),
] as const satisfies readonly Flag[];

const CMD: Command<typeof FLAGS> = { prog: 'txtest-test', usage: ['[flags]'], about: ['A table with every kind of flag.'], flags: FLAGS };

function values(argv: string[], env: NodeJS.ProcessEnv = {}): Values<typeof FLAGS> {
  const p = parseCommand(CMD, argv, env);
  if (p.kind !== 'run') throw new Error(`asked for ${p.kind}`);
  return p.values;
}

/** The one sentence a command line is refused with. */
function refusal(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    values(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error(`accepted ${JSON.stringify(argv)}`);
}

describe('parsing a flag table', () => {
  it('gives every flag its typed value or default', () => {
    const v = values(['--id', 'n1', '--rate', '2.5', '--node-arg=--fsync=always', '--node-arg', 'x']);
    expect(v).toEqual({
      id: 'n1',
      peer: undefined,
      addr: { host: '127.0.0.1', port: 80 },
      standalone: false,
      batch: true,
      missed: 4,
      rate: 2.5,
      'interval-ms': 50,
      'timeout-s': 20_000,
      warmup: undefined,
      ack: 'received',
      nodes: ['n1', 'n2'],
      'node-arg': ['--fsync=always', 'x'],
    });
    expectTypeOf(v.id).toEqualTypeOf<string>();
    expectTypeOf(v.peer).toEqualTypeOf<string | undefined>();
    expectTypeOf(v.addr).toEqualTypeOf<{ host: string; port: number }>();
    expectTypeOf(v.ack).toEqualTypeOf<'received' | 'logged'>();
    expectTypeOf(v.standalone).toEqualTypeOf<boolean>();
    expectTypeOf(v['node-arg']).toEqualTypeOf<string[]>();
  });

  it('refuses unknown flags and stray arguments (strict), naming them', () => {
    expect(refusal(['--id', 'n1', '--bogus'])).toBe('--bogus: unknown flag (see --help)');
    expect(refusal(['--id', 'n1', '-x'])).toBe('-x: unknown flag (see --help)');
    expect(refusal(['--id', 'n1', 'extra'])).toBe('unexpected argument "extra" (flags start with --; see --help)');
    expect(refusal(['--nats', 'nats://x'])).toBe('--nats: set by the test itself');
  });

  it('a flag without its value never swallows the next flag', () => {
    expect(refusal(['--id', '--peer', 'n2'])).toBe('--id: missing value (the next argument "--peer" is a flag; write --id=--peer if it is the value)');
    expect(refusal(['--id', 'n1', '--peer'])).toBe('--peer: missing value');
    expect(refusal(['--id', 'n1', '--missed', '--standalone'])).toMatch(/^--missed: missing value/);
    // A value that starts with a dash is still possible, written inline; "-" alone is a value.
    expect(values(['--id=--odd']).id).toBe('--odd');
    expect(values(['--id', '-', '--peer', 'n2'])).toMatchObject({ id: '-', peer: 'n2' });
  });

  it('booleans: --flag and --no-flag; on|off where the table says so; nothing else', () => {
    expect(values(['--id', 'a', '--standalone']).standalone).toBe(true);
    expect(values(['--id', 'a', '--standalone', '--no-standalone']).standalone).toBe(false);
    expect(refusal(['--id', 'a', '--standalone=1'])).toBe('--standalone: takes no value (write --standalone or --no-standalone)');
    expect(refusal(['--id', 'a', '--standalone', 'on'])).toBe('unexpected argument "on" (flags start with --; see --help)');
    for (const [argv, want] of [
      [['--no-batch'], false],
      [['--batch', 'off'], false],
      [['--batch=off'], false],
      [['--batch', 'on'], true],
      [['--batch=on'], true],
      [['--no-batch', '--batch'], true],
    ] as const) {
      expect(values(['--id', 'a', ...argv]).batch, argv.join(' ')).toBe(want);
    }
    expect(values(['--batch', 'off', '--id', 'a']).id).toBe('a');
    expect(refusal(['--id', 'a', '--batch', 'maybe'])).toBe('--batch: expected on or off, got "maybe"');
    expect(refusal(['--id', 'a', '--batch=true'])).toBe('--batch: expected on or off, got "true"');
  });

  it('durations: 250ms, 5s, 2m; a plain number in the unit the name gives, else refused', () => {
    const d = (argv: string[]) => values(['--id', 'a', ...argv]);
    expect(d(['--interval-ms', '20'])['interval-ms']).toBe(20);
    expect(d(['--interval-ms', '20ms'])['interval-ms']).toBe(20);
    expect(d(['--interval-ms', '0.05s'])['interval-ms']).toBe(50);
    expect(d(['--timeout-s', '30'])['timeout-s']).toBe(30_000);
    expect(d(['--timeout-s', '1.5s'])['timeout-s']).toBe(1500);
    expect(d(['--timeout-s', '2m'])['timeout-s']).toBe(120_000);
    expect(d(['--warmup', '250ms']).warmup).toBe(250);
    expect(refusal(['--id', 'a', '--warmup', '250'])).toBe('--warmup: expected a duration such as 250ms or 5s, got "250"');
    expect(refusal(['--id', 'a', '--interval-ms', '500'])).toBe('--interval-ms: expected a duration between 5ms and 100ms, got "500"');
    expect(refusal(['--id', 'a', '--interval-ms', '7.5'])).toBe('--interval-ms: expected a whole number of milliseconds, got "7.5"');
    expect(refusal(['--id', 'a', '--timeout-s', 'soon'])).toBe('--timeout-s: expected a duration such as 250ms or 5s (a plain number is seconds), got "soon"');
  });

  it('numbers, enums and parsed strings are checked, naming the flag and the bad text', () => {
    expect(refusal(['--id', 'a', '--missed', 'x'])).toBe('--missed: expected an integer between 1 and 100, got "x"');
    expect(refusal(['--id', 'a', '--missed', '1.5'])).toBe('--missed: expected an integer between 1 and 100, got "1.5"');
    expect(refusal(['--id', 'a', '--rate', '0'])).toBe('--rate: expected a number > 0, got "0"');
    expect(refusal(['--id', 'a', '--ack', 'maybe'])).toBe('--ack: expected received or logged, got "maybe"');
    expect(refusal(['--id', 'a', '--addr', 'nowhere'])).toBe('--addr: expected host:port, got "nowhere"');
  });

  it('the flag beats its env variable, which beats the default; an empty variable is unset', () => {
    expect(values(['--id', 'a'], { T_MISSED: '7' }).missed).toBe(7);
    expect(values(['--id', 'a', '--missed', '9'], { T_MISSED: '7' }).missed).toBe(9);
    expect(values(['--id', 'a'], { T_MISSED: '' }).missed).toBe(4);
    expect(values([], { T_ID: 'from-env' }).id).toBe('from-env');
    expect(values(['--id', 'flag'], { T_ID: 'from-env' }).id).toBe('flag');
    expect(values(['--id', 'a'], { T_STANDALONE: '1' }).standalone).toBe(true);
    expect(values(['--id', 'a', '--no-standalone'], { T_STANDALONE: '1' }).standalone).toBe(false);
    expect(values(['--id', 'a'], { T_BATCH: 'off' }).batch).toBe(false);
    expect(values(['--id', 'a'], { T_ACK: 'logged' }).ack).toBe('logged');
    // A bad variable is named with the flag it stands for.
    expect(refusal(['--id', 'a'], { T_MISSED: 'x' })).toBe('T_MISSED (--missed): expected an integer between 1 and 100, got "x"');
    expect(refusal(['--id', 'a'], { T_STANDALONE: 'sure' })).toBe('T_STANDALONE (--standalone): expected 1 or 0 (or true/false, yes/no, on/off), got "sure"');
    // ... and a good flag is not refused for a bad variable behind it.
    expect(values(['--id', 'a', '--missed', '3'], { T_MISSED: 'x' }).missed).toBe(3);
  });

  it('a required flag with neither a value nor a variable is one sentence naming both', () => {
    expect(refusal([])).toBe('--id: required (or set T_ID): the id');
    expect(refusal([], { T_ID: '' })).toBe('--id: required (or set T_ID): the id');
  });

  it('--help lists every flag with its default and variable; it wins over a bad flag', () => {
    const p = parseCommand(CMD, ['--bogus', '--help'], {});
    expect(p.kind).toBe('help');
    const text = (p as { text: string }).text;
    expect(text.split('\n')[0]).toBe('Usage: txtest-test [flags]');
    expect(text).toContain('A table with every kind of flag.');
    for (const f of FLAGS) if (f.type !== 'refused') expect(text).toContain(`--${f.name === 'standalone' ? '[no-]standalone' : f.name}`);
    expect(text).toMatch(/--missed <n> +missed beats \[4\] \(env T_MISSED\)/);
    expect(text).toMatch(/--batch on\|off +batching \[on\] \(env T_BATCH\)/);
    expect(text).toMatch(/--interval-ms <ms> +period \[50\]/);
    expect(text).toContain('--nats: set by the test itself');
    expect(parseCommand(CMD, ['-h'], {}).kind).toBe('help');
  });

  it('--version is the repository version, from the root package.json', () => {
    const root = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(parseCommand(CMD, ['--version'], {})).toEqual({ kind: 'version', text: `txtest-test ${root.version}` });
    expect(parseCommand({ ...CMD, prog: 'txtest-test sub' }, ['--version'], {})).toEqual({ kind: 'version', text: `txtest-test ${root.version}` });
  });

  it('positionals only where the command takes them, and no more than it takes', () => {
    const withArgs: Command<typeof FLAGS> = { ...CMD, positionals: { max: 1, names: 'a subject' } };
    const p = parseCommand(withArgs, ['tx', '--id', 'a'], {});
    expect(p.kind === 'run' && p.positionals).toEqual(['tx']);
    expect(() => parseCommand(withArgs, ['tx', 'more', '--id', 'a'], {})).toThrow(new CliError('unexpected argument "more" (txtest-test takes a subject)'));
  });

  it('a table that names a flag twice is a programming error, not a usage error', () => {
    const twice = [FLAGS[1], FLAGS[1]] as const;
    expect(() => parseCommand({ ...CMD, flags: twice }, [], {})).toThrow('flag table: --peer is defined twice');
  });
});
