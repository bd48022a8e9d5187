/**
 * `nx serve node`: a complete local setup for development. Uses the NATS server at
 * TXTEST_NATS_URL (default nats://127.0.0.1:4222) when a usable one answers there
 * (JetStream on, and credentials for it when it asks), else a private nats-server on
 * that port or, when it is taken, a free one (JetStream on, store under ./data/nats); with
 * `--nats-cluster`, a private three-server cluster on that port and the next two
 * (dev-nats.ts). Then it starts the pair n1 and n2 (HTTP on 127.0.0.1:7071 and :7072:
 * status, metrics and the visualizer page), or with `--shards S` one pair per shard k,
 * s<k>-n1 and s<k>-n2 (HTTP ports from 7071 on, two per shard), with readable logs (pino-pretty here only;
 * nodes log JSON). The two share a cluster key, generated once into ./data/cluster.key
 * (docs/SECURITY.md). A node that dies is started again after a second (longer when it
 * keeps dying), as a supervisor would. Ctrl-C stops everything it started, by PID: the nodes first
 * (SIGTERM, so a primary hands over cleanly), then the private NATS servers.
 * TXTEST_SERVE_DATA (default ./data) and TXTEST_SERVE_HTTP_PORT (n1's; n2 takes the
 * next) move it aside, for a second setup or a test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pretty from 'pino-pretty';
import { defaultPairIds } from '@txtest/protocol';
import { NODE_BIN, REPO_ROOT } from '@txtest/testkit';
import { startDevNats, type DevNats } from './dev-nats';

const USAGE = 'usage: nx serve node [--nats-cluster] [--shards S]  (env: TXTEST_NATS_URL, TXTEST_SERVE_DATA, TXTEST_SERVE_HTTP_PORT)';
/** Enough pairs for a laptop: each is two processes. */
const SERVE_SHARDS_MAX = 16;

function options(): { cluster: boolean; shards: number; url: string; dataDir: string; httpPort: number } {
  // Nx forwards a flag as `--nats-cluster=true`; run directly it is `--nats-cluster`.
  const { values } = parseArgs({
    options: { 'nats-cluster': { type: 'string' }, shards: { type: 'string' }, help: { type: 'boolean' } },
    args: process.argv.slice(2).map((a) => (a === '--nats-cluster' ? '--nats-cluster=true' : a)),
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const flag = values['nats-cluster'] ?? 'false';
  if (flag !== 'true' && flag !== 'false') throw new Error(`--nats-cluster takes no value (or true/false), not "${flag}"`);
  const shards = Number(values.shards ?? 1);
  if (!Number.isInteger(shards) || shards < 1 || shards > SERVE_SHARDS_MAX)
    throw new Error(`--shards must be a whole number from 1 to ${SERVE_SHARDS_MAX}, not "${values.shards}"`);
  const httpPort = Number(process.env.TXTEST_SERVE_HTTP_PORT ?? 7071);
  if (!Number.isInteger(httpPort) || httpPort < 1 || httpPort > 65536 - 2 * shards)
    throw new Error(`TXTEST_SERVE_HTTP_PORT must be a port number, not "${process.env.TXTEST_SERVE_HTTP_PORT}"`);
  return {
    cluster: flag === 'true',
    shards,
    url: process.env.TXTEST_NATS_URL ?? 'nats://127.0.0.1:4222',
    dataDir: resolve(process.env.TXTEST_SERVE_DATA ?? join(REPO_ROOT, 'data')),
    httpPort,
  };
}

const say = (line: string) => void process.stdout.write(`serve: ${line}\n`);
/** The running node processes, by id. */
const children = new Map<string, ChildProcess>();
const restarts = new Set<NodeJS.Timeout>();
let nats: DevNats | null = null;

/** A node that ran this long before it died is restarted after RESTART_MS; one that dies sooner waits twice as long each time (up to RESTART_MAX_MS). */
const STEADY_MS = 10_000;
const RESTART_MS = 1000;
const RESTART_MAX_MS = 30_000;
/** The node's exit code for a bad setting or a refusal to start: the same flags would fail the same way. */
const EXIT_BAD_SETTINGS = 2;

async function main(): Promise<void> {
  const o = options();
  const dev = await startDevNats({ url: o.url, cluster: o.cluster, dataDir: o.dataDir, say });
  nats = dev;
  const keyFile = devClusterKey(o.dataDir);
  for (let index = 0; index < o.shards; index++) {
    const shard = { index, count: o.shards };
    const pair = defaultPairIds(shard);
    pair.forEach((id, j) => {
      const port = o.httpPort + 2 * index + j;
      const args = [
        '--id',
        id,
        '--peer',
        pair[1 - j]!,
        '--shards',
        String(o.shards),
        '--shard',
        String(index),
        '--nats',
        dev.urls,
        '--http',
        `127.0.0.1:${port}`,
        '--data-dir',
        join(o.dataDir, id),
        '--cluster-key-file',
        keyFile,
      ];
      runNode(id, args, dev.nodeEnv, RESTART_MS);
      say(`node ${id}${o.shards === 1 ? '' : ` (shard ${index})`}: status at http://127.0.0.1:${port}/status, metrics at /metrics`);
    });
  }
  say(`visualizer at http://127.0.0.1:${o.httpPort}/ (any node serves it; it follows ${o.shards === 1 ? 'both' : 'every pair of the cluster'})`);
  if (o.shards > 1) say(`clients and the loadgen take --shards ${o.shards}: each update goes to the pair that owns its asset`);
  say(dev.clientHint);
  say('Ctrl-C stops everything; a node that dies is started again (it rejoins as standby)');
}

/**
 * Runs node `id`; when it dies (not at Ctrl-C) it is started again after `delay`, as a
 * supervisor would: the other node serves meanwhile, and the restarted one rejoins.
 */
function runNode(id: string, args: string[], env: NodeJS.ProcessEnv, delay: number): void {
  const startedAt = Date.now();
  const node = spawn(process.execPath, [NODE_BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.set(id, node);
  node.stdout!.pipe(pretty({ colorize: process.stdout.isTTY, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true }));
  say(`node ${id} started (pid ${node.pid})`);
  node.once('exit', (code, signal) => {
    children.delete(id);
    if (stopping) return;
    if (code === EXIT_BAD_SETTINGS) {
      say(`node ${id} exited with code ${code}: it refused its settings or its data (its log above says why); stopping`);
      return void shutdown(EXIT_BAD_SETTINGS);
    }
    const wait = Date.now() - startedAt >= STEADY_MS ? RESTART_MS : delay;
    say(`node ${id} exited (code ${code}, signal ${signal}); starting it again in ${wait} ms`);
    const t = setTimeout(() => {
      restarts.delete(t);
      runNode(id, args, env, Math.min(wait * 2, RESTART_MAX_MS));
    }, wait);
    restarts.add(t);
  });
}

/** The dev pair's cluster key: made on the first run, private to its owner, kept with the data. */
function devClusterKey(dataDir: string): string {
  const file = join(dataDir, 'cluster.key');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    say(`generated the dev pair's cluster key in ${file}`);
  }
  return file;
}

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const t of restarts) clearTimeout(t);
  const running = [...children.values()];
  for (const c of running) c.kill('SIGTERM');
  await Promise.all(running.map((c) => new Promise((r) => c.once('exit', r))));
  await nats?.stop();
  process.exit(code);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
main().catch((err: Error) => {
  process.stderr.write(`serve: ${err.message}\n`);
  void shutdown(2);
});
