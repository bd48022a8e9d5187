/**
 * The NATS side of `nx serve node`: the server at TXTEST_NATS_URL when one answers there,
 * else a private one; or, with `--nats-cluster`, a private three-server cluster made of
 * the shipped configuration (infra/nats/cluster/, its routes, JetStream and the users of
 * infra/nats/users.conf), so the dev pair runs as a production one does: a replicated
 * arbiter bucket, the node user for the nodes, the client user for clients.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT, startNatsServer, type NatsServerHandle } from '@txtest/testkit';

export interface DevNats {
  /** What the nodes and clients are given: one URL, or the cluster's three. */
  urls: string;
  /** Environment for the nodes (the node user and its password, in cluster mode). */
  nodeEnv: NodeJS.ProcessEnv;
  /** How a client reaches it (printed once). */
  clientHint: string;
  stop(): Promise<void>;
}

/** A cluster server's route and monitoring ports sit at these offsets from its client port (4222: 6222, 8222). */
const ROUTE_OFFSET = 2000;
const MONITOR_OFFSET = 4000;

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** `nats://127.0.0.1:4222` -> its port; anything else is refused with the reason. */
export function basePort(url: string): number {
  const m = /^nats:\/\/127\.0\.0\.1:(\d+)$/.exec(url);
  if (m === null) throw new Error(`TXTEST_NATS_URL must look like nats://127.0.0.1:4222 (serve runs on loopback), not "${url}"`);
  return Number(m[1]);
}

export async function startDevNats(opts: { url: string; cluster: boolean; dataDir: string; say(line: string): void }): Promise<DevNats> {
  const port = basePort(opts.url);
  return opts.cluster ? startCluster(port, opts.dataDir, opts.say) : startSingle(opts.url, port, opts.dataDir, opts.say);
}

/**
 * The INFO a NATS server sends on connect (before any authentication), or null when
 * nothing answers there; something else that answers gives `{}`.
 */
function serverInfo(host: string, port: number): Promise<Record<string, unknown> | null> {
  return new Promise((resolve) => {
    let got = '';
    const s = netConnect({ host, port });
    const done = (v: Record<string, unknown> | null) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(2000, () => done({}));
    s.on('error', () => done(null));
    s.on('data', (d: Buffer) => {
      got += d.toString();
      const nl = got.indexOf('\r\n');
      if (nl < 0) return;
      try {
        done(got.startsWith('INFO ') ? (JSON.parse(got.slice(5, nl)) as Record<string, unknown>) : {});
      } catch {
        done({});
      }
    });
  });
}

/** Why the server that answers at `url` will not do for the dev pair; null when it will. */
function unusable(info: Record<string, unknown>): string | null {
  if (info.server_id === undefined) return 'is not a NATS server';
  if (info.jetstream !== true) return "runs without JetStream (the pair's arbiter needs it)";
  const env = process.env;
  const credentials = [env.TXTEST_NATS_USER, env.TXTEST_NATS_CREDS, env.TXTEST_NATS_TOKEN].some((v) => v !== undefined && v !== '');
  if (info.auth_required === true && !credentials) return 'requires authentication, and no TXTEST_NATS_USER, _CREDS or _TOKEN is set';
  return null;
}

async function startSingle(url: string, port: number, dataDir: string, say: (line: string) => void): Promise<DevNats> {
  const info = await serverInfo('127.0.0.1', port);
  const why = info === null ? null : unusable(info);
  if (info !== null && why === null) {
    say(`using the NATS server at ${url}`);
    return { urls: url, nodeEnv: {}, clientHint: 'clients: npx txtest-loadgen (the default URL)', stop: async () => undefined };
  }
  const storeDir = join(dataDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  // Taken by a server that will not do: a private one on a free port, said loudly, rather than a pair without its arbiter.
  const server = await startNatsServer({ port: info === null ? port : undefined, storeDir });
  if (why !== null) say(`the server at ${url} ${why}: using a private nats-server on ${server.url} instead`);
  say(`started a private nats-server (pid ${server.pid}) on ${server.url}, JetStream store ${storeDir}`);
  const hint = server.url === url ? 'clients: npx txtest-loadgen (the default URL)' : `clients: TXTEST_NATS_URL=${server.url} npx txtest-loadgen`;
  return { urls: server.url, nodeEnv: {}, clientHint: hint, stop: () => server.stop() };
}

async function startCluster(base: number, dataDir: string, say: (line: string) => void): Promise<DevNats> {
  const ports = [0, 1, 2].map((i) => ({ client: base + i, route: base + ROUTE_OFFSET + i, monitor: base + MONITOR_OFFSET + i }));
  for (const p of ports) {
    for (const port of [p.client, p.route, p.monitor]) {
      if (await answers('127.0.0.1', port)) {
        throw new Error(`something already listens on 127.0.0.1:${port}, which the dev cluster needs: stop it, or set TXTEST_NATS_URL to another base port`);
      }
    }
  }
  const secretsFile = join(dataDir, 'nats-users.env');
  const secrets = devPasswords(secretsFile, say);
  const servers: NatsServerHandle[] = [];
  const stop = async () => void (await Promise.all(servers.map((s) => s.stop())));
  try {
    // All three at once: a server with JetStream waits for its routes before it serves.
    const started = ports.map((p, i) => {
      const routes = ports.filter((_, j) => j !== i).map((o) => `nats://127.0.0.1:${o.route}`);
      const storeDir = join(dataDir, 'nats-cluster', `s${i + 1}`);
      mkdirSync(storeDir, { recursive: true });
      const args = [
        '-c',
        join(REPO_ROOT, 'infra/nats/cluster', `s${i + 1}.conf`),
        '-m',
        String(p.monitor),
        '--cluster',
        `nats://127.0.0.1:${p.route}`,
        '--routes',
        routes.join(','),
      ];
      return startNatsServer({ port: p.client, storeDir, env: secrets, args }).then((s) => void servers.push(s));
    });
    await Promise.all(started);
  } catch (err) {
    await stop();
    throw err;
  }
  const urls = ports.map((p) => `nats://127.0.0.1:${p.client}`).join(',');
  say(`started a three-server NATS cluster (pids ${servers.map((s) => s.pid).join(', ')}) on ${urls}, stores under ${join(dataDir, 'nats-cluster')}`);
  const password = `$(sed -n 's/^TXTEST_CLIENT_PASSWORD=//p' ${secretsFile})`;
  return {
    urls,
    nodeEnv: { TXTEST_NATS_USER: 'txtest-node', TXTEST_NATS_PASSWORD: secrets.TXTEST_NODE_PASSWORD },
    clientHint: `clients: TXTEST_NATS_URL=${urls} TXTEST_NATS_USER=txtest-client TXTEST_NATS_PASSWORD=${password} npx txtest-loadgen`,
    stop,
  };
}

/** The dev cluster's two passwords (infra/nats/users.conf reads them from the environment): made once, kept private with the data. */
function devPasswords(file: string, say: (line: string) => void): { TXTEST_NODE_PASSWORD: string; TXTEST_CLIENT_PASSWORD: string } {
  if (!existsSync(file)) {
    mkdirSync(join(file, '..'), { recursive: true });
    // A letter first: nats-server would parse a value that starts with a digit as a number.
    const lines = ['TXTEST_NODE_PASSWORD', 'TXTEST_CLIENT_PASSWORD'].map((k) => `${k}=pw${randomBytes(24).toString('hex')}`);
    writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
    say(`generated the dev cluster's NATS passwords in ${file}`);
  }
  const values = Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const { TXTEST_NODE_PASSWORD, TXTEST_CLIENT_PASSWORD } = values;
  if (!TXTEST_NODE_PASSWORD || !TXTEST_CLIENT_PASSWORD)
    throw new Error(`${file} lacks TXTEST_NODE_PASSWORD or TXTEST_CLIENT_PASSWORD: remove it to have new ones made`);
  return { TXTEST_NODE_PASSWORD, TXTEST_CLIENT_PASSWORD };
}
