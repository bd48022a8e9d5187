#!/usr/bin/env node
/**
 * txtest-node: the composition root. config -> wiring (NATS, files, pino, HTTP) -> run.
 * Everything with logic lives in the libs; this file only connects real adapters.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { getModel } from '@txtest/models';
import { ClusterKeys, parseFaults, TxNode, type Arbiter, type Logger } from '@txtest/cluster';
import { subjects as subjectsOf } from '@txtest/protocol';
import { FsEpochStorage, FsLogStorage } from '@txtest/storage-fs';
import { connectNats, defaultArbiterReplicas, describeNats, KvArbiter, NatsTransport } from '@txtest/transport-nats';
import { CliError, commandLine, exitOnCliError, version } from '@txtest/cli';
import { NODE_COMMAND, nodeConfig, type NodeConfig } from './config';
import { HttpServer } from './http-server';
import { LiveFeed } from './live-feed';
import { EventLoopStalls } from './event-loop-stall';
import { LagTracker, NodeMetrics, timedLogStorage, timedTransport } from './metrics';
import { ClusterWatch } from './cluster-watch';
import { systemClock } from './system-clock';
import { collectGarbage, HeapGrowth } from './heap';

/** How often the node's stats are sampled: the resolution of the replication lag in time. */
const SAMPLE_MS = 50;
/** Queue members per client subject while a node serves alone (TxNodeOptions.queueMembers): a dead predecessor's lingering one then takes a seventeenth of the retries. */
const CLIENT_QUEUE_MEMBERS = 16;

/** Every line carries {node, epoch, role}; `bindings` is what the role changes update. */
function nodeLogger(config: NodeConfig) {
  // `epoch` and `role` change with each role change; they come from a mixin rather than
  // setBindings so that a line which names its own epoch or role (the transition line,
  // "started") has that key once, not twice.
  const bindings = { epoch: 0, role: 'starting' };
  const log = pino({ level: config.logLevel, base: { node: config.id }, mixin: () => ({ epoch: bindings.epoch, role: bindings.role }) });
  return { log, bindings };
}

type NodeLog = ReturnType<typeof nodeLogger>['log'];
type Wiring = Awaited<ReturnType<typeof connectWiring>>;
type Web = Awaited<ReturnType<typeof serveHttp>>;

/** NATS and what hangs off it (timed transport, metrics, arbiter): what the node sends through and reports to. */
async function connectWiring(config: NodeConfig, log: NodeLog, current: () => TxNode | null) {
  const nc = await connectNats(config.nats, `txtest-node-${config.id}`);
  const subjects = subjectsOf(config.prefix, config.cluster, config.shard);
  const natsTransport = new NatsTransport(nc);
  const lag = new LagTracker();
  const stalls = new EventLoopStalls();
  stalls.start();
  const metrics = new NodeMetrics(config.id, config.shard.index, config.peer, () => current()?.stats() ?? null, lag, stalls, config.dataDir);
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'reconnect') metrics.natsReconnected();
  })();
  const transport = timedTransport(natsTransport, subjects, metrics);
  let arbiter: Arbiter | null = null;
  if (!config.standalone && config.arbiter !== 'off') {
    const replicas = config.arbiterReplicas ?? defaultArbiterReplicas(nc);
    const kv = await KvArbiter.open(nc, { cluster: config.cluster, prefix: config.prefix, replicas, shard: config.shard });
    if (kv === null && config.arbiter === 'kv') throw new CliError('--arbiter kv needs JetStream on the NATS server, and it is not enabled there');
    log.info(kv === null ? { arbiter: 'off (no JetStream)' } : { arbiter: kv.bucket, key: kv.key, replicas: kv.replicas }, 'arbiter');
    if (kv?.mismatch) log.warn({ arbiter: kv.bucket, replicas: kv.replicas, asked: replicas }, kv.mismatch);
    arbiter = kv;
  }
  return { nc, subjects, transport, metrics, lag, arbiter };
}

/** The HTTP server and its live feed, listening before the node exists so that its status can name the address. */
async function serveHttp(config: NodeConfig, w: Wiring, current: () => TxNode | null) {
  let address = '';
  const feed: LiveFeed = new LiveFeed({ nodeId: config.id, snapshot: () => liveSnapshot() });
  const cluster = new ClusterWatch(w.nc, w.subjects.statusAll, () => feed.listeners > 0);
  const liveSnapshot = (): Record<string, unknown> => {
    const node = current();
    const s = node?.stats() ?? null;
    const st = node?.status(false) ?? null;
    const peer = st?.peer ?? null;
    const peerAt = peer === null ? undefined : cluster.nodes.get(peer.nodeId);
    return {
      t: Date.now(),
      nodeId: config.id,
      http: address,
      pid: process.pid,
      role: s?.role ?? 'starting',
      epoch: s?.epoch ?? 0,
      lastSeq: s?.lastSeq ?? 0,
      committedSeq: s?.committedSeq ?? 0,
      shard: config.shard.index,
      shards: config.shard.count,
      peer: peer === null ? null : { ...peer, http: peerAt?.http ?? null, pid: peerAt?.pid ?? null },
      // Every node of every shard the roll call found: the page follows them all.
      cluster: [...cluster.nodes.values()],
      lag: { seq: w.lag.lagSeq, ms: w.lag.lagMs },
      heartbeat: { silenceMs: s?.peerSilenceMs ?? null, intervalMs: config.heartbeatIntervalMs, missed: config.heartbeatMissed },
      inflight: s?.inflight ?? 0,
      mailboxDepthMax: s?.mailboxDepthMax ?? 0,
      assets: s?.assets ?? 0,
    };
  };
  const http = new HttpServer({
    status: (digest) => {
      const node = current();
      return node === null ? { nodeId: config.id, role: 'starting' } : digest ? node.statusWithDigest() : node.status(false);
    },
    role: () => current()?.role ?? 'starting',
    metrics: async () => ({ contentType: w.metrics.contentType, body: await w.metrics.text() }),
    events: (req, res) => feed.attach(req, res),
  });
  address = await http.listen(config.http.host, config.http.port);
  return { http, feed, cluster, address };
}

/** The node over the real files, its role changes fed to the log, the metrics and the live feed. */
function buildNode(
  config: NodeConfig,
  { log, bindings }: ReturnType<typeof nodeLogger>,
  w: Wiring,
  web: Web,
  faults: ReturnType<typeof parseFaults>,
  stop: (reason: string, exitCode: number) => Promise<void>,
): TxNode {
  return new TxNode({
    nodeId: config.id,
    peerId: config.peer,
    shard: config.shard,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    heartbeatMissed: config.heartbeatMissed,
    ack: config.ack,
    replyFrom: config.replyFrom,
    arbiter: w.arbiter,
    clusterKeys: config.clusterKeys === null ? null : new ClusterKeys(config.clusterKeys),
    forcePrimary: config.forcePrimary,
    subjects: w.subjects,
    queueMembers: CLIENT_QUEUE_MEMBERS,
    transport: w.transport,
    clock: systemClock,
    defer: queueMicrotask,
    logStorage: timedLogStorage(new FsLogStorage(join(config.dataDir, 'log')), w.metrics),
    epochStorage: new FsEpochStorage(config.dataDir),
    log: log as Logger,
    getModel,
    fsync: config.fsync,
    bodyBytesMax: config.bodyBytesMax,
    limits: { mailboxMax: config.mailboxMax, inflightMax: config.inflightMax },
    events: config.events,
    snapshotEveryRecords: config.snapshotEveryRecords,
    segmentBytesMax: config.segmentBytesMax,
    replicationRingBytes: config.replicationRingBytes,
    repairLog: config.repairLog,
    statusExtras: () => ({ pid: process.pid, http: web.address, version: version() }),
    onRoleChange: (c) => {
      bindings.epoch = c.epoch;
      bindings.role = c.to;
      w.metrics.roleChange(c);
      // Requests pending when the node stops serving are abandoned: stop timing them.
      if (c.to === 'fenced' || c.to === 'syncing' || c.to === 'stopping') w.transport.forget();
      web.feed.transition({ node: config.id, from: c.from, to: c.to, epoch: c.epoch, reason: c.reason, t: Date.now() });
    },
    faults,
    onRecovered: () => log.info(collectGarbage(), 'heap collected after the recovery'),
    // In a pair, a node that can no longer log is worth less than no node: it stops, so
    // the peer takes over at once (a primary hands over first), and its supervisor can
    // restart it, which names the problem if it persists. Alone, it stays up for reads.
    onFailed: config.standalone
      ? undefined
      : (err) => {
          log.fatal({ err: err.message }, 'stopping: this node failed and its peer can carry on');
          void stop('node failed', 1);
        },
  });
}

/** Samples the node's stats every SAMPLE_MS: the replication lag in time and the gauges come from these samples. */
function startSampling(node: TxNode, w: Wiring): NodeJS.Timeout {
  const sampleTimer = setInterval(() => {
    const s = node.stats();
    w.lag.sampleStats(Date.now(), s);
    w.metrics.sample(s);
  }, SAMPLE_MS);
  sampleTimer.unref();
  return sampleTimer;
}

/** The orderly stop on a signal or a failure: the node first (a primary hands over), then what it used, then exit. */
function stopper(log: NodeLog, node: TxNode, sampleTimer: NodeJS.Timeout, w: Wiring, web: Web) {
  let stopping = false;
  return async (signal: string, exitCode = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    try {
      await node.stop();
      clearInterval(sampleTimer);
      web.cluster.stop();
      await w.arbiter?.close();
      await w.nc.drain();
      web.feed.close();
      await web.http.close();
      log.info({}, 'stopped');
      process.exit(exitCode);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'unclean stop');
      process.exit(1);
    }
  };
}

async function run(config: NodeConfig): Promise<void> {
  const logger = nodeLogger(config);
  const { log } = logger;
  log.info({ nats: describeNats(config.nats), dataDir: config.dataDir, cluster: config.cluster }, 'starting');
  // Test-only breakage (faults.ts): never set in production, so it is loud when it is.
  const faults = parseFaults(process.env.TXTEST_TEST_FAULTS);
  if (faults.size > 0) log.warn({ faults: [...faults] }, 'TEST FAULTS ENABLED: this node is deliberately broken');
  // The metrics, the HTTP status and the live feed exist before the node and report "starting" until it does.
  let node: TxNode | null = null;
  const current = () => node;
  const w = await connectWiring(config, log, current);
  if (config.peer !== null && config.clusterKeys === null)
    log.warn(
      { subject: w.subjects.node(config.id) },
      'NODE-TO-NODE TRAFFIC IS UNAUTHENTICATED: anyone who may publish on the internal subjects can steer this pair; give both nodes --cluster-key-file (docs/SECURITY.md)',
    );
  const web = await serveHttp(config, w, current);
  // `stop` is defined below; the node only calls it after start, when it exists.
  node = buildNode(config, logger, w, web, faults, (reason, exitCode) => stop(reason, exitCode));
  new HeapGrowth(config.heapGrowthPercent).watch();
  const sampleTimer = startSampling(node, w);
  web.cluster.start();
  const stop = stopper(log, node, sampleTimer, w, web);
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  await node.start();
  log.info({ role: node.role, epoch: node.processor.epoch, http: web.address, pid: process.pid }, 'started');
}

const config = commandLine(NODE_COMMAND, nodeConfig);
run(config).catch((err: Error) => {
  exitOnCliError(NODE_COMMAND.prog, err);
  process.stderr.write(`txtest-node: ${err.name}: ${err.message}\n`);
  process.exit(1);
});
