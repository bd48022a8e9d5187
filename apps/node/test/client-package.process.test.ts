/**
 * @txtest/client as an application outside the repository gets it: packed with
 * `npm pack` (libs/client/scripts/package.ts), installed from the tarball into a copy of
 * examples/client-app, its type declarations compiled under Node's module resolution,
 * and the example run against a real node: credits, a refusal, a retried id answered
 * with its original reply, an id conflict, and the balance read back.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startNatsServer, startNode, type NatsServerHandle, type NodeProcess } from '@txtest/testkit';

let nats: NatsServerHandle;
let node: NodeProcess;
let work: string;
let app: string;

/** Runs a command to its end; a failure carries what it printed. */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    return execFileSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\nstdout: ${e.stdout ?? ''}\nstderr: ${e.stderr ?? ''}`, { cause: err });
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'txtest-client-pkg-'));
  // The layout the example's package.json expects: ../../tmp/client-package/<tarball>.
  app = join(work, 'examples/client-app');
  cpSync(join(REPO_ROOT, 'examples/client-app'), app, { recursive: true });
  nats = await startNatsServer({ jetstream: false });
  node = await startNode(['--id', 'pkg1', '--standalone', '--nats', nats.url, '--data-dir', join(work, 'data'), '--http', '0']);
}, 60_000);

afterAll(async () => {
  node?.kill('SIGKILL');
  await node?.exited;
  await nats?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('the client package', () => {
  it('packs, installs from its tarball into an outside app, type-checks there and runs against a node', () => {
    const tarball = run(
      process.execPath,
      [join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), 'libs/client/scripts/package.ts', '--out', join(work, 'tmp/client-package')],
      REPO_ROOT,
    )
      .trim()
      .split('\n')
      .at(-1)!;
    expect(tarball).toMatch(/txtest-client-\d+\.\d+\.\d+\.tgz$/);
    expect(existsSync(tarball)).toBe(true);
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], app);
    // Installed as a package, not linked to the workspace: its own copy, with its own dependencies.
    expect(existsSync(join(app, 'node_modules/@txtest/client/index.js'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/msgpackr'))).toBe(true);
    run(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', '.'], app);
    const out = run(process.execPath, ['index.mjs'], app, { TXTEST_NATS_URL: nats.url });
    expect(JSON.parse(out.trim())).toEqual({ balance: 55, version: 10, retrySameReply: true, refused: 'REJECTED', conflict: 'ID_CONFLICT' });
  });
});
