/**
 * txtest-sim's command line (the real binary): --help and --version exit 0; a bad flag
 * exits 2 with one line naming it, before any seed runs.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { version } from '@txtest/cli';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

function sim(args: string[]) {
  const r = spawnSync(process.execPath, ['libs/sim/bin/txtest-sim.js', ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('txtest-sim command line', () => {
  it('--help lists the flags and exits 0; --version prints the repository version', () => {
    const help = sim(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: txtest-sim /);
    for (const flag of ['--seeds', '--from', '--to', '--seed', '--[no-]trace', '--faults', '--steps', '--jobs', '--[no-]keep-going', '--[no-]quiet'])
      expect(help.stdout).toContain(flag);
    expect(sim(['--version'])).toEqual({ code: 0, stdout: `txtest-sim ${version()}\n`, stderr: '' });
  });

  it.each([
    [['--seeds', 'x'], 'txtest-sim: --seeds: expected an integer >= 1, got "x"\n'],
    [['--seed', '--trace'], 'txtest-sim: --seed: missing value (the next argument "--trace" is a flag; write --seed=--trace if it is the value)\n'],
    [['--faults', 'nope'], 'txtest-sim: --faults: unknown test fault "nope" (known: '],
    [['--seed', '3', '--seeds', '4'], 'txtest-sim: --seed names one seed: give it without --seeds, --from or --to\n'],
    [['--from', '9', '--to', '3'], 'txtest-sim: --to 3 is below --from 9\n'],
    [['--bogus'], 'txtest-sim: --bogus: unknown flag (see --help)\n'],
  ])('%j exits 2 naming the problem', (args, stderr) => {
    const r = sim(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.startsWith(stderr)).toBe(true);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
