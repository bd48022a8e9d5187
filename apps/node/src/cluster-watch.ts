/**
 * Where the other nodes of the cluster are: a roll call on `P.C.status` (every node of
 * every shard answers with its status, docs/PROTOCOL.md section 5) once a second while a
 * visualizer page listens to this node, so that the page can follow the peer and every
 * other pair, and find a node again after it restarts on a new port. Nobody listening,
 * nobody is asked: a large cluster does not answer roll calls for nothing.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { packMsgpack, unpackMsgpack } from '@txtest/protocol';

export interface NodeAddress {
  nodeId: string;
  shard: number;
  http: string;
  pid: number;
}

/** How long a roll call collects answers. */
const ANSWERS_WAIT_MS = 500;

export class ClusterWatch {
  /** Every node that ever answered, with the address it last reported: kept while it is down, so a page knows where to retry. */
  readonly nodes = new Map<string, NodeAddress>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private asking = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    /** Whether anyone wants the addresses now (a page on the live feed). */
    private readonly wanted: () => boolean,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void (this.wanted() ? this.rollCall() : undefined), this.intervalMs);
    this.timer.unref();
  }

  private async rollCall(): Promise<void> {
    if (this.asking) return;
    this.asking = true;
    try {
      const answers = await this.nc.requestMany(this.subject, packMsgpack({}), { strategy: 'timer', maxWait: Math.min(ANSWERS_WAIT_MS, this.intervalMs) });
      for await (const m of answers) this.note(unpackMsgpack(m.data) as Partial<NodeAddress>);
    } catch {
      // No node answers yet, or the connection is closing: keep what is known.
    } finally {
      this.asking = false;
    }
  }

  private note(s: Partial<NodeAddress>): void {
    if (typeof s.nodeId !== 'string' || typeof s.http !== 'string' || s.http === '') return;
    this.nodes.set(s.nodeId, { nodeId: s.nodeId, shard: typeof s.shard === 'number' ? s.shard : 0, http: s.http, pid: typeof s.pid === 'number' ? s.pid : 0 });
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
