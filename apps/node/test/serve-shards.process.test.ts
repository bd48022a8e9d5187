/**
 * `nx serve node --shards 2` as a user runs it (docs/SHARDING.md): two pairs on one
 * local NATS, each node under the id and shard the README names, the loadgen with
 * `--shards 2 --audit` clean across both, and `txtest-admin status --shards 2` showing
 * every node. Ctrl-C stops everything.
 */
import { connect } from '@nats-io/transport-node';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultNodeIds } from '@txtest/protocol';
import { freeBase, nodeStatus, runAdmin, runLoadgen, startServe, type ServeHandle } from '@txtest/testkit';

let serve: ServeHandle | null = null;
const dataDir = mkdtempSync(join(tmpdir(), 'txtest-serve-shards-'));

afterAll(async () => {
  await serve?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('nx serve node --shards 2', () => {
  it('runs a pair per shard; the loadgen routes over both and its audit is clean', async () => {
    // NATS on base, the four HTTP ports on base + 1 .. base + 4.
    const base = await freeBase([0, 1, 2, 3, 4]);
    const url = `nats://127.0.0.1:${base}`;
    serve = startServe(['--shards', '2'], { TXTEST_NATS_URL: url, TXTEST_SERVE_DATA: dataDir, TXTEST_SERVE_HTTP_PORT: String(base + 1) });
    await serve.waitFor(/node s1-n2 \(shard 1\): status at/);
    const nc = await connect({ servers: url, noAsyncTraces: true });
    try {
      const ids = defaultNodeIds(2);
      // Each pair forms: every node ends up primary or standby (polled answers, not sleeps).
      const deadline = Date.now() + 60_000;
      for (const [i, id] of ids.entries()) {
        for (;;) {
          const s = await nodeStatus(nc, id, false, undefined, undefined, 500).catch(() => null);
          if (s !== null && (s.role === 'primary' || s.role === 'standby')) {
            expect(s).toMatchObject({ nodeId: id, shard: i >> 1, shards: 2, http: `127.0.0.1:${base + 1 + i}` });
            break;
          }
          if (Date.now() > deadline) throw new Error(`${id} never became primary or standby (${s?.role ?? 'no answer'})`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const report = join(dataDir, 'loadgen.json');
      const run = await runLoadgen(['--shards', '2', '--in-flight', '64', '--duration', '4', '--warmup', '0', '--audit', '--json', report], {
        TXTEST_NATS_URL: url,
      });
      expect(run.code, run.stderr).toBe(0);
      const r = JSON.parse(readFileSync(report, 'utf8')) as {
        measured: { ok: number; errorsTotal: number };
        audit: { clean: boolean; digest: { shards: unknown[] } };
      };
      expect(r.measured.errorsTotal).toBe(0);
      expect(r.audit.clean).toBe(true);
      expect(r.audit.digest.shards).toHaveLength(2);
      const perShard = await Promise.all(['s0-n1', 's1-n1'].map(async (id) => (await nodeStatus(nc, id)).lastSeq));
      for (const seq of perShard) expect(seq).toBeGreaterThan(0);
      const st = await runAdmin(['status', '--shards', '2', '--nats', url]);
      expect(st.code, st.stdout + st.stderr).toBe(0);
      expect(st.stdout).toMatch(/shard 0 of 2\n\s+s0-n1\s+s0-n2/);
      expect(st.stdout).toMatch(/shard 1 of 2\n\s+s1-n1\s+s1-n2/);
    } finally {
      await nc.close();
    }
    serve.signal('SIGINT');
    expect(await serve.exited).toBe(0);
  }, 150_000);
});
