/**
 * commandLine() as a binary uses it, in a real process: --help and --version print and
 * exit 0; a bad flag, or a refusal of the binary's own checks, is one line on stderr
 * naming it and exit code 2; good flags reach the program.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { version } from '../src/index';

const ENTRY = fileURLToPath(new URL('./fixture/entry.ts', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', ENTRY, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('commandLine in a process', () => {
  it('--help and --version print to stdout and exit 0', () => {
    const help = run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: txtest-fixture \[flags\]\n/);
    expect(help.stdout).toMatch(/--low <n> +the lower bound \[1\] \(env FIXTURE_LOW\)/);
    expect(run(['--version'])).toEqual({ code: 0, stdout: `txtest-fixture ${version()}\n`, stderr: '' });
  });

  it.each([
    [['--bogus'], {}, 'txtest-fixture: --bogus: unknown flag (see --help)\n'],
    [['--low'], {}, 'txtest-fixture: --low: missing value\n'],
    [['--low', '--high', '3'], {}, 'txtest-fixture: --low: missing value (the next argument "--high" is a flag; write --low=--high if it is the value)\n'],
    [['--low', 'x'], {}, 'txtest-fixture: --low: expected an integer >= 0, got "x"\n'],
    [[], { FIXTURE_LOW: 'x' }, 'txtest-fixture: FIXTURE_LOW (--low): expected an integer >= 0, got "x"\n'],
    [['--low', '11'], {}, 'txtest-fixture: --low (11) must not exceed --high (10)\n'],
  ])('%j (env %j) exits 2 with one sentence naming the problem', (args, env, stderr) => {
    expect(run(args, env)).toEqual({ code: 2, stdout: '', stderr });
  });

  it('good flags, and the env variable behind a flag, reach the program', () => {
    expect(run(['--high', '20'], { FIXTURE_LOW: '5' })).toEqual({ code: 0, stdout: '{"low":5,"high":20}\n', stderr: '' });
    expect(run(['--low=7'], { FIXTURE_LOW: '5' }).stdout).toBe('{"low":7,"high":10}\n');
  });
});
