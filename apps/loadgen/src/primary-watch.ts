/**
 * Who is primary right now, in each shard: polls `P.C.status.<node>` of every known
 * node at about 4 Hz (short timeouts, so a dead node costs one missed answer, not a
 * stall) and records each change of primary with its time, which the progress line shows and the
 * reports mark as failovers. A node that does not answer is simply absent.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { NodeStatus } from '@txtest/protocol';
import { nodeStatus } from '@txtest/testkit';
import { absNowMs } from './recorder';

export interface PrimaryChange {
  /** Absolute ms of the poll that saw the change. */
  atMs: number;
  /** The shard whose pair changed primary (0 unsharded). */
  shard: number;
  from: string | null;
  to: string | null;
  epoch: number;
}

/** A node's status, or null when it does not answer in time. */
export function fetchStatus(nc: NatsConnection, prefix: string, cluster: string, nodeId: string, digest = false, timeoutMs = 500): Promise<NodeStatus | null> {
  return nodeStatus(nc, nodeId, digest, prefix, cluster, timeoutMs).catch(() => null);
}

const SERVING = new Set(['primary', 'solo']);

/** The primary of each shard (by the shard its nodes report), and every change of one. */
export class PrimaryWatch {
  /** By shard: the serving node with the highest epoch, as last seen. */
  readonly primaries = new Map<number, { nodeId: string; epoch: number }>();
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

  /** The one line the progress shows: `n1 (epoch 3)`, or `s0-n1 (epoch 3), s1-n2 (epoch 2)` by shard. */
  get summary(): string | null {
    if (this.primaries.size === 0) return null;
    return [...this.primaries.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, p]) => `${p.nodeId} (epoch ${p.epoch})`)
      .join(', ');
  }

  start(): Promise<void> {
    this.polling = this.poll();
    return this.polling;
  }

  /** One round: asks every node, then decides each shard's primary (its serving node with the highest epoch). */
  private async poll(): Promise<void> {
    const got = await Promise.all(this.nodes.map((n) => fetchStatus(this.nc, this.prefix, this.cluster, n, false, Math.min(500, this.everyMs * 2))));
    const best = new Map<number, NodeStatus>();
    for (const s of got) {
      if (s === null || !SERVING.has(s.role)) continue;
      const shard = s.shard ?? 0;
      const b = best.get(shard);
      if (b === undefined || s.epoch > b.epoch) best.set(shard, s);
    }
    const now = absNowMs();
    for (const [shard, b] of best) {
      const was = this.primaries.get(shard);
      if (was !== undefined && b.nodeId === was.nodeId && b.epoch <= was.epoch) continue;
      if (b.nodeId !== was?.nodeId) this.changes.push({ atMs: now, shard, from: was?.nodeId ?? null, to: b.nodeId, epoch: b.epoch });
      this.primaries.set(shard, { nodeId: b.nodeId, epoch: b.epoch });
    }
    if (!this.stopped) this.timer = setTimeout(() => (this.polling = this.poll()), this.everyMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    await this.polling;
  }
}
