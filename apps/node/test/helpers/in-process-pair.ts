/**
 * Two TxNodes in this process on a real nats-server, each with its own data dir, for
 * integration tests that watch or break the node-to-node traffic: a `TapTransport`
 * sees every publish and may drop it. Waiting is on events (role changes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll } from 'vitest';
import { getModel } from '@txtest/models';
import { TxNode, type Logger, type PublishOptions, type Transport, type TxNodeOptions } from '@txtest/cluster';
import { subjects } from '@txtest/protocol';
import { FsEpochStorage, FsLogStorage } from '@txtest/storage-fs';
import { startNatsServer, type NatsServerHandle } from '@txtest/testkit';
import { systemClock } from '../../src/system-clock';

/** A transport whose publishes pass through `tap` first; false drops the message. */
export class TapTransport implements Transport {
  constructor(
    private readonly inner: Transport,
    private readonly tap: (subject: string, data: Uint8Array) => boolean,
  ) {}
  subscribe: Transport['subscribe'] = (s, h, o) => this.inner.subscribe(s, h, o);
  request: Transport['request'] = (s, d, t) => this.inner.request(s, d, t);
  flush: Transport['flush'] = () => this.inner.flush();
  publish(subject: string, data: Uint8Array, opts?: PublishOptions): void {
    if (this.tap(subject, data)) this.inner.publish(subject, data, opts);
  }
}

/** A logger that keeps `msg {fields}` lines. */
export function logger(lines: string[]): Logger {
  const put = (o: object, msg?: string) => void lines.push(`${msg ?? ''} ${JSON.stringify(o)}`);
  return { debug: () => undefined, info: put, warn: put, error: put };
}

export class InProcessNodes {
  private readonly waiting = new Map<string, () => void>();

  constructor(private readonly dir: string) {}

  /** Resolves when node `id` of `tag` reaches `role` (ask before the change can happen). */
  roleReached(tag: string, id: string, role: string): Promise<void> {
    return new Promise((resolve) => this.waiting.set(`${tag}:${id}:${role}`, resolve));
  }

  /** The data dir of node `id` of `tag`. */
  logDir(tag: string, id: string): string {
    return join(this.dir, tag, id, 'log');
  }

  async start(tag: string, id: string, peer: string, transport: Transport, lines: string[], extra: Partial<TxNodeOptions> = {}): Promise<TxNode> {
    const n = new TxNode({
      onRoleChange: (c) => this.waiting.get(`${tag}:${id}:${c.to}`)?.(),
      nodeId: id,
      peerId: peer,
      subjects: subjects('txtest', tag),
      transport,
      clock: systemClock,
      defer: queueMicrotask,
      logStorage: new FsLogStorage(this.logDir(tag, id)),
      epochStorage: new FsEpochStorage(join(this.dir, tag, id)),
      log: logger(lines),
      getModel,
      fsync: { kind: 'interval', ms: 5 },
      bodyBytesMax: 65536,
      snapshotEveryRecords: 0,
      segmentBytesMax: 1 << 26,
      repairLog: false,
      heartbeatIntervalMs: 50,
      heartbeatMissed: 20,
      statusExtras: () => ({ pid: process.pid, http: '' }),
      ...extra,
    });
    await n.start();
    return n;
  }
}

/**
 * For one test file: a nats-server (no JetStream) and a temp dir, started before its
 * tests and removed after them with every connection opened through `connections`.
 */
export function inProcessSuite(tmpPrefix: string): { nodes: () => InProcessNodes; connections: (n: number) => Promise<NatsConnection[]> } {
  let nats: NatsServerHandle | undefined;
  let dir = '';
  let nodes: InProcessNodes | undefined;
  const conns: NatsConnection[] = [];
  beforeAll(async () => {
    nats = await startNatsServer({ jetstream: false });
    dir = mkdtempSync(join(tmpdir(), tmpPrefix));
    nodes = new InProcessNodes(dir);
  });
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close()));
    await nats?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });
  return {
    nodes: () => nodes!,
    connections: async (n) => {
      const cs = await Promise.all(Array.from({ length: n }, () => connect({ servers: nats!.url, noAsyncTraces: true })));
      conns.push(...cs);
      return cs;
    },
  };
}
