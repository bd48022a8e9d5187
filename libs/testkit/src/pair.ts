/**
 * A real pair for process tests: two node processes on one nats-server, each with its
 * own data dir, started, killed (SIGKILL, SIGSTOP/SIGCONT) and restarted by PID.
 * Waiting is on events: a node's own log line announcing the role it reached.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPairIds, UNSHARDED, type ShardSpec } from '@txtest/protocol';
import { spawnNode, type LogLine, type NodeProcess } from './node-process';

export interface PairOptions {
  natsUrl: string;
  /** Extra flags for both nodes. */
  args?: string[];
  heartbeatIntervalMs?: number;
  heartbeatMissed?: number;
  /** The shard this pair owns (default: the only one); its node ids are then `s<k>-n1` and `s<k>-n2`. */
  shard?: ShardSpec;
}

/** True for a role-change log line that ends in `role` (`from -> role`). */
export function reached(role: string, after = 0): (l: LogLine) => boolean {
  return (l) => l.to === role && typeof l.time === 'number' && l.time >= after;
}

export class TestPair {
  readonly dir: string;
  readonly procs = new Map<string, NodeProcess>();
  readonly shard: ShardSpec;
  /** The two node ids (`n1`, `n2` unsharded). */
  readonly ids: readonly [string, string];
  private readonly all: NodeProcess[] = [];

  constructor(private readonly o: PairOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'txtest-pair-'));
    this.shard = o.shard ?? UNSHARDED;
    this.ids = defaultPairIds(this.shard);
  }

  args(id: string, extra: string[] = []): string[] {
    const [a, b] = this.ids;
    if (id !== a && id !== b) throw new Error(`node ${id} is not of this pair (${a}, ${b})`);
    const peer = id === a ? b : a;
    const { index, count } = this.shard;
    return [
      '--id',
      id,
      '--peer',
      peer,
      '--nats',
      this.o.natsUrl,
      '--data-dir',
      join(this.dir, id),
      '--http',
      '0',
      '--heartbeat-interval-ms',
      String(this.o.heartbeatIntervalMs ?? 50),
      '--heartbeat-missed',
      String(this.o.heartbeatMissed ?? 4),
      '--shards',
      String(count),
      '--shard',
      String(index),
      ...(this.o.args ?? []),
      ...extra,
    ];
  }

  /**
   * Starts (or restarts) a node; resolves once its process logs that it is up (after its
   * recovery, which at a million assets can take longer than the default 30 s).
   */
  async start(id: string, extra: string[] = [], timeoutMs = 30_000): Promise<NodeProcess> {
    const p = spawnNode(this.args(id, extra));
    this.procs.set(id, p);
    this.all.push(p);
    await p.waitForLog((l) => l.msg === 'started', timeoutMs);
    return p;
  }

  node(id: string): NodeProcess {
    const p = this.procs.get(id);
    if (p === undefined) throw new Error(`node ${id} was never started`);
    return p;
  }

  /** Resolves when node `id` (its current process) logs a change to `role`. */
  waitRole(id: string, role: string, since = 0, timeoutMs = 20_000): Promise<LogLine> {
    return this.node(id).waitForLog(reached(role, since), timeoutMs);
  }

  /** Resolves with the first of `roles` that node `id` reaches. */
  waitAnyRole(id: string, roles: string[], timeoutMs = 20_000): Promise<LogLine> {
    return this.node(id).waitForLog((l) => typeof l.to === 'string' && roles.includes(l.to as string), timeoutMs);
  }

  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.node(id);
    p.kill(signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM') await p.exited;
  }

  async close(): Promise<void> {
    for (const p of this.all) {
      p.kill('SIGCONT');
      p.kill('SIGKILL');
    }
    await Promise.all(this.all.map((p) => p.exited));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
