#!/usr/bin/env node
/**
 * txtest-node: the composition root. config -> wiring (NATS, files, pino, HTTP) -> run.
 * Everything with logic lives in the libs; this file only connects real adapters.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { getModel } from '@txtest/models';
import { parseFaults, TxNode, type Arbiter, type Logger } from '@txtest/cluster';
import { subjects } from '@txtest/protocol';
import { FsEpochStorage, FsLogStorage } from '@txtest/storage-fs';
import { connectNats, describeNats, KvArbiter, NatsTransport } from '@txtest/transport-nats';
import { ConfigError, helpText, loadConfig, type NodeConfig } from './config';
import { HttpServer } from './http-server';
import { systemClock } from './system-clock';

async function run(config: NodeConfig): Promise<void> {
  const log = pino({ level: config.logLevel, base: { node: config.id } });
  log.info({ nats: describeNats(config.nats), dataDir: config.dataDir, cluster: config.cluster }, 'starting');
  // Test-only breakage (faults.ts): never set in production, so it is loud when it is.
  const faults = parseFaults(process.env.TXTEST_TEST_FAULTS);
  if (faults.size > 0) log.warn({ faults: [...faults] }, 'TEST FAULTS ENABLED: this node is deliberately broken');
  const nc = await connectNats(config.nats, `txtest-node-${config.id}`);
  const transport = new NatsTransport(nc);
  let arbiter: Arbiter | null = null;
  if (!config.standalone && config.arbiter !== 'off') {
    const kv = await KvArbiter.open(nc, { cluster: config.cluster, prefix: config.prefix });
    if (kv === null && config.arbiter === 'kv') throw new ConfigError('--arbiter kv needs JetStream on the NATS server, and it is not enabled there');
    log.info({ arbiter: kv === null ? 'off (no JetStream)' : kv.bucket }, 'arbiter');
    arbiter = kv;
  }
  let node: TxNode | null = null;
  const http = new HttpServer({
    status: (digest) => node?.status(digest) ?? { nodeId: config.id, role: 'starting' },
    role: () => node?.role ?? 'starting',
  });
  const httpAddress = await http.listen(config.http.host, config.http.port);
  node = new TxNode({
    nodeId: config.id,
    peerId: config.peer,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    heartbeatMissed: config.heartbeatMissed,
    ack: config.ack,
    arbiter,
    forcePrimary: config.forcePrimary,
    subjects: subjects(config.prefix, config.cluster),
    transport,
    clock: systemClock,
    defer: queueMicrotask,
    logStorage: new FsLogStorage(join(config.dataDir, 'log')),
    epochStorage: new FsEpochStorage(config.dataDir),
    log: log as Logger,
    getModel,
    fsync: config.fsync,
    bodyBytesMax: config.bodyBytesMax,
    limits: { mailboxMax: config.mailboxMax, inflightMax: config.inflightMax },
    events: config.events,
    snapshotEveryRecords: config.snapshotEveryRecords,
    segmentBytesMax: config.segmentBytesMax,
    repairLog: config.repairLog,
    statusExtras: () => ({ pid: process.pid, http: httpAddress }),
    faults,
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    try {
      await node!.stop();
      await arbiter?.close();
      await nc.drain();
      await http.close();
      log.info({}, 'stopped');
      process.exit(0);
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

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(`${helpText()}\n`);
  process.exit(0);
}
let config: NodeConfig;
try {
  config = loadConfig(argv);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`txtest-node: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
run(config).catch((err: Error) => {
  process.stderr.write(`txtest-node: ${err instanceof ConfigError ? '' : `${err.name}: `}${err.message}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
