/**
 * Who is primary right now: polls `P.C.status.<node>` of every known node at about
 * 4 Hz (short timeouts, so a dead node costs one missed answer, not a stall) and
 * records each change of primary with its time, which the progress line shows and the
 * reports mark as failovers. A node that does not answer is simply absent.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { NodeStatus } from '@txtest/protocol';
import { nodeStatus } from '@txtest/testkit';
import { absNowMs } from './recorder';

export interface PrimaryChange {
  /** Absolute ms of the poll that saw the change. */
  atMs: number;
  from: string | null;
  to: string | null;
  epoch: number;
}

/** A node's status, or null when it does not answer in time. */
export function fetchStatus(nc: NatsConnection, prefix: string, cluster: string, nodeId: string, digest = false, timeoutMs = 500): Promise<NodeStatus | null> {
  return nodeStatus(nc, nodeId, digest, prefix, cluster, timeoutMs).catch(() => null);
}

const SERVING = new Set(['primary', 'solo']);

export class PrimaryWatch {
  primary: string | null = null;
  epoch = 0;
  readonly changes: PrimaryChange[] = [];
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
      if (SERVING.has(s.role) && (best === null || s.epoch > best.epoch)) best = s;
    }
    const now = absNowMs();
    if (best !== null && (best.nodeId !== this.primary || best.epoch > this.epoch)) {
      if (best.nodeId !== this.primary) this.changes.push({ atMs: now, from: this.primary, to: best.nodeId, epoch: best.epoch });
      this.primary = best.nodeId;
      this.epoch = best.epoch;
    }
    if (!this.stopped) this.timer = setTimeout(() => (this.polling = this.poll()), this.everyMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    await this.polling;
  }
}
