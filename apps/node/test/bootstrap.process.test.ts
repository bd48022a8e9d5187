/**
 * infra/bootstrap.sh refuses what would fail later, with one sentence: a Node.js older
 * than 20.19 (named, with how to get one) and an argument it does not know. A stand-in
 * `node` first on PATH plays the old version; nothing is installed by these runs.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@txtest/testkit';

const dir = mkdtempSync(join(tmpdir(), 'txtest-bootstrap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bootstrap = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync('bash', [join(REPO_ROOT, 'infra/bootstrap.sh'), ...args], { env, encoding: 'utf8' });

describe('infra/bootstrap.sh', () => {
  it('refuses a Node.js older than 20.19, naming the version found and how to get one', () => {
    writeFileSync(join(dir, 'node'), '#!/bin/sh\n[ "$1" = "--version" ] && { echo v18.19.0; exit 0; }\nexit 1\n');
    chmodSync(join(dir, 'node'), 0o755);
    const r = bootstrap([], { ...process.env, PATH: `${dir}:${process.env.PATH}` });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Node\.js v18\.19\.0 is too old; TxTest needs 20\.19 or later \(Debian 13: apt-get install nodejs npm/);
  });

  it('refuses an unknown argument', () => {
    const r = bootstrap(['--bogus']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('bootstrap: unknown argument "--bogus" (usage: infra/bootstrap.sh [--tests])');
  });
});
