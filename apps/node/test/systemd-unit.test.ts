/**
 * The shipped systemd unit and its environment file (infra/systemd): systemd's own
 * checker finds nothing to say about the unit, it runs the node's real entry point, and
 * every setting the example environment file holds is one the node reads.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@txtest/testkit';
import { NODE_FLAGS } from '../src/config';

const DIR = join(REPO_ROOT, 'infra/systemd');

describe('infra/systemd', () => {
  it('systemd-analyze verify accepts the unit without a word', () => {
    const r = spawnSync('systemd-analyze', ['verify', join(DIR, 'txtest-node.service')], { encoding: 'utf8' });
    if (r.error) throw new Error(`systemd-analyze cannot run (infra/bootstrap.sh --tests installs it): ${r.error.message}`);
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });

  it('starts the node entry point of an install at /opt/txtest, and restarts it except after a bad setting', () => {
    const unit = readFileSync(join(DIR, 'txtest-node.service'), 'utf8');
    const exec = /^ExecStart=\/usr\/bin\/node \/opt\/txtest\/(\S+)$/m.exec(unit);
    expect(exec).not.toBeNull();
    expect(existsSync(join(REPO_ROOT, exec![1]!))).toBe(true);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^RestartPreventExitStatus=2$/m);
    expect(unit).toMatch(/^EnvironmentFile=\/etc\/txtest\/node\.env$/m);
  });

  it('the example environment file sets only variables the node reads', () => {
    const known = new Set<string>(NODE_FLAGS.flatMap((f) => ('env' in f && f.env !== undefined ? [f.env] : [])));
    const keys = readFileSync(join(DIR, 'node.env.example'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => l.slice(0, l.indexOf('=')));
    expect(keys.length).toBeGreaterThan(5);
    expect(keys.filter((k) => !known.has(k))).toEqual([]);
  });
});
