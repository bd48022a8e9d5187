/**
 * The loadgen's three command lines as a user meets them (the real binary): --help and
 * --version exit 0 for the load run, the drill and req; a bad flag exits 2 with one
 * line naming it, before anything starts. And req takes the NATS settings the node
 * takes: against a nats-server that wants a password, it reaches a node with them and is
 * refused without them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { version } from '@txtest/cli';
import { spawnNode, startNatsServer, type NatsServerHandle, type NodeProcess } from '@txtest/testkit';
import { runCli } from './helpers';

describe('txtest-loadgen command lines', () => {
  it.each([[[]], [['drill']], [['req']]])('%j --help and --version exit 0', async (sub) => {
    const help = await runCli([...sub, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`^Usage: txtest-loadgen${sub.length > 0 ? ` ${sub[0]}` : ''} `));
    expect(help.stdout).toContain('--nats');
    expect(await runCli([...sub, '--version'])).toEqual({ code: 0, stdout: `txtest-loadgen ${version()}\n`, stderr: '' });
  });

  it.each([
    [
      ['--duration', '--audit'],
      'txtest-loadgen: --duration: missing value (the next argument "--audit" is a flag; write --duration=--audit if it is the value)\n',
    ],
    [['--batch', 'maybe'], 'txtest-loadgen: --batch: expected on or off, got "maybe"\n'],
    [['drill', '--kills', 'x'], 'txtest-loadgen drill: --kills: expected an integer between 1 and 10000, got "x"\n'],
    [['drill', '--nats', 'nats://127.0.0.1:4222'], 'txtest-loadgen drill: --nats: set by the drill itself (it runs its own nats-server and pair)\n'],
    [['req', '--bogus', 'status.n1'], 'txtest-loadgen req: --bogus: unknown flag (see --help)\n'],
    [['req', '--nats-password', 'pw', 'status.n1'], 'txtest-loadgen req: --nats-password needs --nats-user\n'],
    [['req', 'tx', '{not json'], `txtest-loadgen req: the body is not JSON: ${jsonError('{not json')}\n`],
  ])('%j exits 2 naming the problem', async (args, stderr) => {
    expect(await runCli(args)).toEqual({ code: 2, stdout: '', stderr });
  });
});

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

describe('txtest-loadgen req and NATS authentication', () => {
  let nats: NatsServerHandle | undefined;
  let node: NodeProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'txtest-req-'));
  const auth = { TXTEST_NATS_USER: 'ops', TXTEST_NATS_PASSWORD: 'secret' };

  afterAll(async () => {
    node?.kill('SIGKILL');
    await node?.exited;
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reaches a node with the user and password (env or flags), and is refused without', async () => {
    nats = await startNatsServer({ jetstream: false, args: ['--user', 'ops', '--pass', 'secret'] });
    node = spawnNode(['--id', 'r1', '--standalone', '--nats', nats.url, '--data-dir', join(dir, 'r1'), '--http', '0', '--arbiter', 'off'], auth);
    await node.waitForLog((l) => l.to === 'solo');

    const withEnv = await runCli(['req', '--nats', nats.url, 'status.r1'], auth);
    expect(withEnv.stderr).toBe('');
    expect(withEnv.code).toBe(0);
    expect(JSON.parse(withEnv.stdout)).toMatchObject({ nodeId: 'r1', role: 'solo' });

    const withFlags = await runCli(['req', '--nats', nats.url, '--nats-user', 'ops', '--nats-password', 'secret', 'status.r1', '{}']);
    expect(withFlags.code).toBe(0);
    expect(JSON.parse(withFlags.stdout)).toMatchObject({ nodeId: 'r1' });

    const without = await runCli(['req', '--nats', nats.url, 'status.r1']);
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(/^txtest-loadgen: .*auth/i);
  });
});
