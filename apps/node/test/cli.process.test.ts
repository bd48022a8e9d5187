/**
 * txtest-node's command line as a user meets it (the real binary): --help and
 * --version exit 0; a bad flag exits 2 with one line naming it, before anything starts
 * (no NATS server is needed to be refused). The settings themselves: config.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { version } from '@txtest/cli';
import { NODE_BIN, REPO_ROOT } from '@txtest/testkit';

/** Runs the binary to its end; spawnSync returns once stdout and stderr are closed, so both are whole. */
function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [NODE_BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('txtest-node command line', () => {
  it('--help lists the documented settings with their variables and exits 0', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: txtest-node /);
    for (const [flag, env] of [
      ['--id', 'TXTEST_NODE_ID'],
      ['--[no-]standalone', 'TXTEST_STANDALONE'],
      ['--[no-]force-primary', 'TXTEST_FORCE_PRIMARY'],
      ['--fsync', 'TXTEST_FSYNC'],
      ['--nats', 'TXTEST_NATS_URL'],
    ]) {
      expect(r.stdout).toMatch(new RegExp(`${flag!.replace(/[[\]]/g, '\\$&')} .*\\(env ${env}\\)`));
    }
  });

  it('--version prints the repository version and exits 0', () => {
    expect(run(['--version'])).toMatchObject({ code: 0, stdout: `txtest-node ${version()}\n`, stderr: '' });
  });

  it.each([
    [['--id', 'n1', '--standalone', '--heartbeat-missed', 'x'], {}, 'txtest-node: --heartbeat-missed: expected an integer between 2 and 100, got "x"\n'],
    [['--id', '--peer', 'n2'], {}, 'txtest-node: --id: missing value (the next argument "--peer" is a flag; write --id=--peer if it is the value)\n'],
    [['--id', 'n1', '--standalone', '--frobnicate'], {}, 'txtest-node: --frobnicate: unknown flag (see --help)\n'],
    [
      ['--id', 'n1'],
      { TXTEST_STANDALONE: 'maybe' },
      'txtest-node: TXTEST_STANDALONE (--standalone): expected 1 or 0 (or true/false, yes/no, on/off), got "maybe"\n',
    ],
  ])('%j (env %j) exits 2 naming the flag', async (args, env, stderr) => {
    expect(run(args, env)).toEqual({ code: 2, stdout: '', stderr });
  });
});
