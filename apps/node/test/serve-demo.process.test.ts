/**
 * The README's demo, as a user runs it: `nx serve node` (the script behind it) on free
 * ports, a loadgen with an audit against it, and the primary SIGKILLed by the pid in its
 * status. The standby takes over, serve keeps running (and its NATS server with it),
 * the killed node is started again and rejoins as standby, and the client saw no error
 * it had to give up on: every update it sent was acknowledged and the audit finds them
 * all. Ctrl-C then stops everything. A server at the URL that lacks JetStream is named
 * and left alone: serve runs its own.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NodeStatus } from '@txtest/protocol';
import { freeBase, nodeStatus, pidAlive, runLoadgen, startNatsServer, startServe, type ServeHandle } from '@txtest/testkit';

let serve: ServeHandle | null = null;
const dataDir = mkdtempSync(join(tmpdir(), 'txtest-serve-demo-'));

afterAll(async () => {
  await serve?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Polls both nodes' status until `done` holds for them (each poll is an answer, not a sleep standing in for one). */
async function statusUntil(
  nc: NatsConnection,
  what: string,
  done: (s: Record<string, NodeStatus | null>) => boolean,
): Promise<Record<string, NodeStatus | null>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ask = (id: string) => nodeStatus(nc, id, false, undefined, undefined, 500).catch(() => null);
    const s = { n1: await ask('n1'), n2: await ask('n2') };
    if (done(s)) return s;
    if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify({ n1: s.n1?.role, n2: s.n2?.role })}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the README demo under nx serve node', () => {
  it('survives a SIGKILL of the primary: the standby serves, the killed node comes back as standby, the client loses nothing', async () => {
    // NATS on base, the two HTTP ports on base + 1, + 2.
    const base = await freeBase([0, 1, 2]);
    const url = `nats://127.0.0.1:${base}`;
    serve = startServe([], { TXTEST_NATS_URL: url, TXTEST_SERVE_DATA: dataDir, TXTEST_SERVE_HTTP_PORT: String(base + 1) });
    const natsPid = Number((await serve.waitFor(/started a private nats-server \(pid (\d+)\)/))[1]);
    const nc = await connect({ servers: url, noAsyncTraces: true });
    try {
      const before = await statusUntil(nc, 'the pair never formed', (s) => [s.n1?.role, s.n2?.role].sort().join() === 'primary,standby');
      const primary = before.n1!.role === 'primary' ? 'n1' : 'n2';
      const standby = primary === 'n1' ? 'n2' : 'n1';
      const victim = before[primary]!.pid;

      const report = join(dataDir, 'loadgen.json');
      const load = runLoadgen(['--in-flight', '64', '--batch', 'on', '--duration', '12', '--warmup', '0', '--audit', '--json', report], {
        TXTEST_NATS_URL: url,
      });
      await statusUntil(nc, 'the load never reached the primary', (s) => (s[primary]?.lastSeq ?? 0) > 2000);
      process.kill(victim, 'SIGKILL');

      await statusUntil(nc, 'the standby did not take over', (s) => s[standby]?.role === 'solo' || s[standby]?.role === 'primary');
      await serve.waitFor(new RegExp(`node ${primary} exited \\(code null, signal SIGKILL\\); starting it again`));
      const after = await statusUntil(
        nc,
        'the killed node did not come back as standby',
        (s) => s[primary]?.role === 'standby' && s[standby]?.role === 'primary',
      );
      expect(after[primary]!.pid).not.toBe(victim);

      const run = await load;
      expect(run.code).toBe(0);
      const r = JSON.parse(readFileSync(report, 'utf8')) as {
        measured: { ok: number; errorsTotal: number; timeouts: number };
        audit: { clean: boolean; acked: number };
      };
      expect(r.measured.errorsTotal).toBe(0);
      expect(r.measured.timeouts).toBe(0);
      expect(r.audit.clean).toBe(true);
      expect(r.audit.acked).toBeGreaterThan(0);
      expect(pidAlive(serve.pid) && pidAlive(natsPid)).toBe(true);
    } finally {
      await nc.close();
    }
    serve.signal('SIGINT');
    expect(await serve.exited).toBe(0);
    expect(pidAlive(natsPid)).toBe(false);
  }, 120_000);

  it('does not run the pair on a server without JetStream at its URL: it says so and uses a private one', async () => {
    const base = await freeBase([0, 1, 2]);
    const plain = await startNatsServer({ port: base, jetstream: false });
    try {
      serve = startServe([], { TXTEST_NATS_URL: plain.url, TXTEST_SERVE_DATA: join(dataDir, 'plain'), TXTEST_SERVE_HTTP_PORT: String(base + 1) });
      const m = await serve.waitFor(/the server at (\S+) runs without JetStream \(the pair's arbiter needs it\): using a private nats-server on (\S+) instead/);
      expect(m[1]).toBe(plain.url);
      expect(m[2]).not.toBe(plain.url);
      await serve.waitFor(/solo -> primary/, 60_000);
      await serve.waitFor(/syncing -> standby/, 60_000);
      expect((await serve.waitFor(/clients: TXTEST_NATS_URL=(\S+) npx txtest-loadgen/))[1]).toBe(m[2]);
      serve.signal('SIGINT');
      expect(await serve.exited).toBe(0);
    } finally {
      await plain.stop();
    }
  }, 120_000);
});
