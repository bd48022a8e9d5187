/**
 * `nx serve node`: a complete local setup for development. Uses the NATS server at
 * TXTEST_NATS_URL (default nats://127.0.0.1:4222) when one answers there, else starts
 * a private nats-server on that port (JetStream on, store under ./data/nats); then
 * starts the pair n1 and n2 (HTTP on 127.0.0.1:7071 and :7072: status, metrics and the
 * visualizer page) with readable logs (pino-pretty here only; nodes log JSON). The two
 * share a cluster key, generated once into ./data/cluster.key (docs/SECURITY.md).
 * Ctrl-C stops everything it started, by PID: the nodes first (SIGTERM, so a primary
 * hands over cleanly), then the private nats-server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import pretty from 'pino-pretty';
import { NODE_BIN, REPO_ROOT, startNatsServer, type NatsServerHandle } from '@txtest/testkit';

const url = process.env.TXTEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const m = /^nats:\/\/([^:/]+):(\d+)$/.exec(url);
if (m === null) {
  process.stderr.write(`serve: TXTEST_NATS_URL must look like nats://127.0.0.1:4222, not "${url}"\n`);
  process.exit(2);
}
const [, host, portText] = m;
const port = Number(portText);

function answers(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: host!, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

const children: ChildProcess[] = [];
let nats: NatsServerHandle | null = null;

async function main(): Promise<void> {
  if (await answers()) {
    process.stdout.write(`serve: using the NATS server at ${url}\n`);
  } else {
    const storeDir = join(REPO_ROOT, 'data', 'nats');
    mkdirSync(storeDir, { recursive: true });
    nats = await startNatsServer({ port, storeDir });
    process.stdout.write(`serve: started a private nats-server (pid ${nats.pid}) on ${url}, JetStream store ${storeDir}\n`);
  }
  const keyFile = devClusterKey();
  const ports: Record<string, number> = { n1: 7071, n2: 7072 };
  for (const [id, peer] of [
    ['n1', 'n2'],
    ['n2', 'n1'],
  ] as const) {
    const node = spawn(
      process.execPath,
      [
        NODE_BIN,
        '--id',
        id,
        '--peer',
        peer,
        '--nats',
        url,
        '--http',
        `127.0.0.1:${ports[id]}`,
        '--data-dir',
        join(REPO_ROOT, 'data', id),
        '--cluster-key-file',
        keyFile,
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(node);
    node.stdout!.pipe(pretty({ colorize: process.stdout.isTTY, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true }));
    node.once('exit', (code, signal) => {
      process.stdout.write(`serve: node ${id} exited (code ${code}, signal ${signal})\n`);
      if (!stopping) void shutdown(code ?? 1);
    });
    process.stdout.write(`serve: node ${id} (pid ${node.pid}) status at http://127.0.0.1:${ports[id]}/status, metrics at /metrics\n`);
  }
  process.stdout.write(`serve: visualizer at http://127.0.0.1:${ports.n1}/ (either node serves it; it follows both)\n`);
  process.stdout.write('serve: Ctrl-C stops everything\n');
}

/** The dev pair's cluster key: made on the first run, private to its owner, kept with the data. */
function devClusterKey(): string {
  const file = join(REPO_ROOT, 'data', 'cluster.key');
  if (!existsSync(file)) {
    mkdirSync(join(REPO_ROOT, 'data'), { recursive: true });
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    process.stdout.write(`serve: generated the dev pair's cluster key in ${file}\n`);
  }
  return file;
}

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  await nats?.stop();
  process.exit(code);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
main().catch((err: Error) => {
  process.stderr.write(`serve: ${err.message}\n`);
  void shutdown(1);
});
