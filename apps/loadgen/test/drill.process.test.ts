/**
 * `txtest-loadgen drill` end to end: its own nats-server and pair, the primary SIGKILLed
 * under load (by the pid in its status) and restarted, after a pre-growth of the state; the failover gap is measured,
 * the killed node comes back as the standby, and the audit (states exact, standby
 * digest equal to the primary's) is clean. Then the same over a cluster of two shards:
 * each shard's primary killed once, the audit spanning both, each pair's digests equal.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../src/report';
import { runCli } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'txtest-drill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('failover drill', () => {
  it('drill: the primary killed under load is answered for by the new primary; the restarted node rejoins; audit clean', async () => {
    const json = join(dir, 'drill.json');
    const html = join(dir, 'drill.html');
    // --pregrow: the kill happens with 3,000 more accounts in the state (covered by the digest check).
    const r = await runCli(['drill', '--kills', '1', '--pregrow', '3000', '--warmup', '0', '--progress', 'off', '--json', json, '--html', html], {}, 120_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/drill: pre-grown 3000 accounts in [\d.]+ s/);
    const rep = JSON.parse(readFileSync(json, 'utf8')) as RunReport;
    expect(rep.drill!.kills).toHaveLength(1);
    expect(rep.drill!.kills.map((k) => k.killed)).toEqual(['n1']);
    for (const k of rep.drill!.kills) expect(k.gapMs).toBeGreaterThan(0);
    expect(rep.audit).toMatchObject({ clean: true, digest: { checked: true, equal: true } });
    expect(rep.failovers.filter((f) => f.from !== null).map((f) => [f.from, f.to])).toEqual([['n1', 'n2']]);
    expect(r.stdout).toMatch(/failover gap\s+median [\d.]+ ms, worst [\d.]+ ms over 1 kill\(s\)/);
    expect(readFileSync(html, 'utf8')).toContain('"kills":[{');
  });

  it('drill --shards 2: each shard primary killed once under load; the audit spans both shards, each pair with equal digests', async () => {
    const json = join(dir, 'shards.json');
    const r = await runCli(['drill', '--shards', '2', '--kills', '2', '--pregrow', '2000', '--warmup', '0', '--progress', 'off', '--json', json], {}, 180_000);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(readFileSync(json, 'utf8')) as RunReport;
    const kills = rep.drill!.kills;
    expect(kills.map((k) => k.shard).sort()).toEqual([0, 1]);
    for (const k of kills) {
      expect(k.killed).toBe(`s${k.shard}-n1`);
      expect(k.newPrimary).toBe(`s${k.shard}-n2`);
      expect(k.gapMs).toBeGreaterThan(0);
    }
    expect(rep.audit).toMatchObject({ clean: true, digest: { checked: true, equal: true } });
    expect(rep.audit!.digest.shards!.map((d) => [d.equal, d.primary, d.standby])).toEqual([
      [true, 's0-n2', 's0-n1'],
      [true, 's1-n2', 's1-n1'],
    ]);
    // Both pairs took updates: the epochs seen in replies are per shard.
    expect(new Set(rep.epochs.map((e) => e.shard))).toEqual(new Set([0, 1]));
  });
});
