/**
 * Who is primary right now: polls `P.C.status.<node>` of every known node at about
 * 4 Hz (short timeouts, so a dead node costs one missed answer, not a stall) and
 * records each change of primary with its time, which the progress line shows and the
 * reports mark as failovers. A node that does not answer is simply absent.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { packMsgpack, subjects, unpackMsgpack, type NodeStatus } from '@txtest/protocol';
import { absNowMs } from './recorder';

export interface PrimaryChange {
  /** Absolute ms of the poll that saw the change. */
  atMs: number;
  from: string | null;
  to: string | null;
  epoch: number;
}

export async function fetchStatus(nc: NatsConnection, prefix: string, cluster: string, nodeId: string, digest = false, timeoutMs = 500): Promise<NodeStatus | null> {
  try {
    const m = await nc.request(subjects(prefix, cluster).status(nodeId), digest ? packMsgpack({ digest: true }) : new Uint8Array(0), { timeout: timeoutMs });
    return unpackMsgpack(m.data) as NodeStatus;
  } catch {
    return null;
  }
}

const SERVING = new Set(['primary', 'solo']);

export class PrimaryWatch {
  primary: string | null = null;
  epoch = 0;
  pid = 0;
  readonly changes: PrimaryChange[] = [];
  readonly latest = new Map<string, NodeStatus>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private polling: Promise<void> = Promise.resolve();

  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
    private readonly cluster: string,
    readonly nodes: readonly string[],
    private readonly everyMs = 250,
  ) {}

  start(): Promise<void> {
    this.polling = this.poll();
    return this.polling;
  }

  /** One round: asks every node, then decides the primary (the serving node with the highest epoch). */
  private async poll(): Promise<void> {
    const got = await Promise.all(this.nodes.map((n) => fetchStatus(this.nc, this.prefix, this.cluster, n, false, Math.min(500, this.everyMs * 2))));
    let best: NodeStatus | null = null;
    for (const s of got) {
      if (s === null) continue;
      this.latest.set(s.nodeId, s);
      if (SERVING.has(s.role) && (best === null || s.epoch > best.epoch)) best = s;
    }
    const now = absNowMs();
    if (best !== null && (best.nodeId !== this.primary || best.epoch > this.epoch)) {
      if (best.nodeId !== this.primary) this.changes.push({ atMs: now, from: this.primary, to: best.nodeId, epoch: best.epoch });
      this.primary = best.nodeId;
      this.epoch = best.epoch;
      this.pid = best.pid;
    }
    if (!this.stopped) this.timer = setTimeout(() => (this.polling = this.poll()), this.everyMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    await this.polling;
  }
}
