#!/usr/bin/env node
/**
 * txtest-node: the composition root. config -> wiring (NATS, files, pino, HTTP) -> run.
 * Everything with logic lives in the libs; this file only connects real adapters.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { getModel } from '@txtest/models';
import { parseFaults, TxNode, type Arbiter, type Logger } from '@txtest/cluster';
import { subjects as subjectsOf } from '@txtest/protocol';
import { FsEpochStorage, FsLogStorage } from '@txtest/storage-fs';
import { connectNats, describeNats, KvArbiter, NatsTransport } from '@txtest/transport-nats';
import { CliError, commandLine, exitOnCliError } from '@txtest/cli';
import { NODE_COMMAND, nodeConfig, type NodeConfig } from './config';
import { HttpServer } from './http-server';
import { LiveFeed } from './live-feed';
import { EventLoopStalls } from './event-loop-stall';
import { LagTracker, NodeMetrics, timedLogStorage, timedTransport } from './metrics';
import { PeerWatch } from './peer-watch';
import { systemClock } from './system-clock';

/** How often the node's stats are sampled: the resolution of the replication lag in time. */
const SAMPLE_MS = 50;

async function run(config: NodeConfig): Promise<void> {
  // Every line carries {node, epoch, role}. `epoch` and `role` change with each role
  // change; they come from a mixin rather than setBindings so that a line which names
  // its own epoch or role (the transition line, "started") has that key once, not twice.
  const bindings = { epoch: 0, role: 'starting' };
  const log = pino({ level: config.logLevel, base: { node: config.id }, mixin: () => ({ epoch: bindings.epoch, role: bindings.role }) });
  log.info({ nats: describeNats(config.nats), dataDir: config.dataDir, cluster: config.cluster }, 'starting');
  // Test-only breakage (faults.ts): never set in production, so it is loud when it is.
  const faults = parseFaults(process.env.TXTEST_TEST_FAULTS);
  if (faults.size > 0) log.warn({ faults: [...faults] }, 'TEST FAULTS ENABLED: this node is deliberately broken');
  const nc = await connectNats(config.nats, `txtest-node-${config.id}`);
  const subjects = subjectsOf(config.prefix, config.cluster);
  const natsTransport = new NatsTransport(nc);
  let node: TxNode | null = null;
  const lag = new LagTracker();
  const stalls = new EventLoopStalls();
  stalls.start();
  const metrics = new NodeMetrics(config.id, config.peer, () => node?.stats() ?? null, lag, stalls);
  const transport = timedTransport(natsTransport, subjects, metrics);
  const peerWatch = config.peer === null ? null : new PeerWatch(natsTransport, config.peer, subjects.status(config.peer));
  let arbiter: Arbiter | null = null;
  if (!config.standalone && config.arbiter !== 'off') {
    const kv = await KvArbiter.open(nc, { cluster: config.cluster, prefix: config.prefix });
    if (kv === null && config.arbiter === 'kv') throw new CliError('--arbiter kv needs JetStream on the NATS server, and it is not enabled there');
    log.info({ arbiter: kv === null ? 'off (no JetStream)' : kv.bucket }, 'arbiter');
    arbiter = kv;
  }
  let httpAddress = '';
  const feed = new LiveFeed({ nodeId: config.id, snapshot: () => liveSnapshot() });
  const liveSnapshot = () => {
    const s = node?.stats() ?? null;
    const st = node?.status(false) ?? null;
    const peer = st?.peer ?? null;
    return {
      t: Date.now(),
      nodeId: config.id,
      http: httpAddress,
      pid: process.pid,
      role: s?.role ?? 'starting',
      epoch: s?.epoch ?? 0,
      lastSeq: s?.lastSeq ?? 0,
      committedSeq: s?.committedSeq ?? 0,
      peer: peer === null ? null : { ...peer, http: peerWatch?.last?.http ?? null, pid: peerWatch?.last?.pid ?? null },
      lag: { seq: lag.lagSeq, ms: lag.lagMs },
      heartbeat: { silenceMs: s?.peerSilenceMs ?? null, intervalMs: config.heartbeatIntervalMs, missed: config.heartbeatMissed },
      inflight: s?.inflight ?? 0,
      mailboxDepthMax: s?.mailboxDepthMax ?? 0,
      assets: s?.assets ?? 0,
    };
  };
  const http = new HttpServer({
    status: (digest) => (node === null ? { nodeId: config.id, role: 'starting' } : digest ? node.statusWithDigest() : node.status(false)),
    role: () => node?.role ?? 'starting',
    metrics: async () => ({ contentType: metrics.contentType, body: await metrics.text() }),
    events: (req, res) => feed.attach(req, res),
  });
  httpAddress = await http.listen(config.http.host, config.http.port);
  node = new TxNode({
    nodeId: config.id,
    peerId: config.peer,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    heartbeatMissed: config.heartbeatMissed,
    ack: config.ack,
    arbiter,
    forcePrimary: config.forcePrimary,
    subjects,
    transport,
    clock: systemClock,
    defer: queueMicrotask,
    logStorage: timedLogStorage(new FsLogStorage(join(config.dataDir, 'log')), metrics),
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
    statusExtras: () => ({ pid: process.pid, http: httpAddress }),
    onRoleChange: (c) => {
      bindings.epoch = c.epoch;
      bindings.role = c.to;
      metrics.roleChange(c);
      // Requests pending when the node stops serving are abandoned: stop timing them.
      if (c.to === 'fenced' || c.to === 'syncing' || c.to === 'stopping') transport.forget();
      feed.transition({ node: config.id, from: c.from, to: c.to, epoch: c.epoch, reason: c.reason, t: Date.now() });
    },
    faults,
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
  const sampleTimer = setInterval(() => {
    const s = node!.stats();
    lag.sampleStats(Date.now(), s);
    metrics.sample(s);
  }, SAMPLE_MS);
  sampleTimer.unref();
  peerWatch?.start();

  let stopping = false;
  const stop = async (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    try {
      await node!.stop();
      clearInterval(sampleTimer);
      peerWatch?.stop();
      await arbiter?.close();
      await nc.drain();
      feed.close();
      await http.close();
      log.info({}, 'stopped');
      process.exit(exitCode);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'unclean stop');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  await node.start();
  log.info({ role: node.role, epoch: node.processor.epoch, http: httpAddress, pid: process.pid }, 'started');
}

const config = commandLine(NODE_COMMAND, nodeConfig);
run(config).catch((err: Error) => {
  exitOnCliError(NODE_COMMAND.prog, err);
  process.stderr.write(`txtest-node: ${err.name}: ${err.message}\n`);
  process.exit(1);
});
