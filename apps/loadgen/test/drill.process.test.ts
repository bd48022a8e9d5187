/**
 * `txtest-loadgen drill` end to end: its own nats-server and pair, the primary SIGKILLed
 * twice under load (by the pid in its status) and restarted each time; each failover
 * gap is measured, and the audit (states exact, standby digest equal) is clean.
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
  it('drill: two primary kills under load, each answered by the new primary, audit clean', async () => {
    const json = join(dir, 'drill.json');
    const html = join(dir, 'drill.html');
    const r = await runCli(['drill', '--kills', '2', '--progress', 'off', '--json', json, '--html', html], {}, 120_000);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(readFileSync(json, 'utf8')) as RunReport;
    expect(rep.drill!.kills).toHaveLength(2);
    expect(rep.drill!.kills.map((k) => k.killed)).toEqual(['n1', 'n2']);
    for (const k of rep.drill!.kills) expect(k.gapMs).toBeGreaterThan(0);
    expect(rep.audit).toMatchObject({ clean: true, digest: { checked: true, equal: true } });
    expect(rep.failovers.filter((f) => f.from !== null).length).toBeGreaterThanOrEqual(2);
    expect(r.stdout).toMatch(/failover gap\s+median [\d.]+ ms, worst [\d.]+ ms over 2 kill\(s\)/);
    expect(readFileSync(html, 'utf8')).toContain('"kills":[{');
  });

  it('drill flags the load run owns are refused in one sentence', async () => {
    const r = await runCli(['drill', '--nats', 'nats://127.0.0.1:4222']);
    expect([r.code, r.stderr]).toEqual([2, 'txtest-loadgen: --nats is set by the drill itself (it runs its own nats-server and pair)\n']);
  });
});
