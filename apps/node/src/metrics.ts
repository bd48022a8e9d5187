/**
 * Prometheus metrics for one node (`GET /metrics`), on a Registry of its own.
 *
 * The core keeps plain numbers (`TxNode.stats()`), read here at scrape time by
 * `collect()` callbacks, so the hot path pays nothing for metrics it does not already
 * count. What the core does not count is measured at the seams the app owns:
 * request latency at the transport (arrival of a client message to its reply leaving),
 * log bytes and fsync time at the log storage, role changes from `onRoleChange`, and
 * replication lag in time from a small sampler (see LagTracker).
 */
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { version } from '@txtest/cli';
import { ROLE_STATES, type RoleChange } from '@txtest/actors';
import { SNAPSHOT_PART_NAME, type LogStorage } from '@txtest/journal';
import type { MessageHandler, NodeStats, PublishOptions, Transport } from '@txtest/cluster';
import type { EventLoopStalls } from './event-loop-stall';
import { opsMetrics, totalsByLabel } from './ops-metrics';

const LATENCY_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Replication lag in time: how long the oldest record the follower lacks has existed.
 * Every `sample()` notes (time, head seq); the lag is the age of the first sample whose
 * head was beyond what the follower holds now. Its resolution is the sampling period.
 */
export class LagTracker {
  private readonly t: Float64Array;
  private readonly seq: Float64Array;
  private next = 0;
  private count = 0;
  /** Seq and milliseconds behind; NaN when no replication stream exists (solo, negotiating). */
  lagSeq = Number.NaN;
  lagMs = Number.NaN;
  /** Which end of the stream this node is: the primary (measuring its standby) or the standby. */
  side: 'primary' | 'standby' | null = null;

  constructor(readonly samplesMax = 512) {
    this.t = new Float64Array(samplesMax);
    this.seq = new Float64Array(samplesMax);
  }

  /** `head`: the newest seq that exists; `have`: what the follower holds (null: no stream). */
  sample(nowMs: number, head: number, have: number | null): void {
    this.t[this.next] = nowMs;
    this.seq[this.next] = head;
    this.next = (this.next + 1) % this.samplesMax;
    this.count = Math.min(this.count + 1, this.samplesMax);
    if (have === null) {
      this.lagSeq = Number.NaN;
      this.lagMs = Number.NaN;
      return;
    }
    this.lagSeq = Math.max(0, head - have);
    if (have >= head) {
      this.lagMs = 0;
      return;
    }
    // Oldest to newest: the first sample already beyond `have` dates the oldest missing record.
    let since = nowMs;
    for (let i = 0; i < this.count; i++) {
      const k = (this.next - this.count + i + this.samplesMax) % this.samplesMax;
      if (this.seq[k]! > have) {
        since = this.t[k]!;
        break;
      }
    }
    this.lagMs = nowMs - since;
  }

  /** Feeds one NodeStats: a primary with a live standby, or a follower of a primary. */
  sampleStats(nowMs: number, s: NodeStats): void {
    if (s.standbyAckSeq !== null) {
      this.side = 'primary';
      return this.sample(nowMs, s.lastSeq, s.standbyAckSeq);
    }
    if ((s.role === 'standby' || s.role === 'syncing') && s.peerLastSeq !== null) {
      this.side = 'standby';
      return this.sample(nowMs, Math.max(s.peerLastSeq, s.lastSeq), s.lastSeq);
    }
    this.side = null;
    this.sample(nowMs, s.lastSeq, null);
  }
}

export class NodeMetrics {
  readonly registry = new Registry();
  private readonly requestSeconds: Histogram<'kind'>;
  private readonly fsyncSeconds: Histogram;
  private readonly logBytes: Counter;
  private readonly roleChanges: Counter<'from' | 'to'>;
  private readonly failovers: Counter;
  private readonly committed: Counter;
  /** The committed watermark at the last sample: the counter grows by its advance. */
  private committedSeen: number | null = null;

  /** Counts a re-established NATS connection (main's status loop). */
  readonly natsReconnected: () => void;

  constructor(nodeId: string, shard: number, peerId: string | null, stats: () => NodeStats | null, lag: LagTracker, stalls: EventLoopStalls, dataDir: string) {
    const registry = this.registry;
    // The shard on every series: the alerts and the dashboard group pairs by it (docs/SHARDING.md).
    registry.setDefaultLabels({ node: nodeId, shard: String(shard) });
    collectDefaultMetrics({ register: registry, prefix: 'txtest_process_' });
    dropGaugesCalledTotal(registry);
    const registers = [registry];
    this.committed = new Counter({
      name: 'txtest_updates_committed_total',
      help: 'Updates this node committed since it started: released by the reply gate on a primary, received contiguously on a standby (a snapshot install counts its records); log replay at start does not count.',
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'txtest_request_duration_seconds',
      help: 'Client request latency at the node: a message (one update or a batch) arriving to its reply leaving, gate wait included.',
      labelNames: ['kind'],
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    // Both series exist from the start, so rates work before the first request.
    this.requestSeconds.zero({ kind: 'tx' });
    this.requestSeconds.zero({ kind: 'query' });
    this.fsyncSeconds = new Histogram({
      name: 'txtest_log_fsync_duration_seconds',
      help: 'Duration of each fdatasync of the transaction log.',
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    this.logBytes = new Counter({ name: 'txtest_log_bytes_written_total', help: 'Bytes appended to the transaction log segments.', registers });
    this.roleChanges = new Counter({
      name: 'txtest_role_changes_total',
      help: 'Role transitions of this node, by from and to.',
      labelNames: ['from', 'to'],
      registers,
    });
    this.failovers = new Counter({
      name: 'txtest_failovers_total',
      help: 'Takeovers by this node: standby to promoting after the primary went silent or handed over.',
      registers,
    });

    totalsByLabel(
      registers,
      'txtest_node_messages_rejected_total',
      "Messages on this node's internal subject dropped without effect, by reason: malformed, not-peer, unauthenticated, no-key, bad-mac, replay, stale-session (docs/SECURITY.md). Absent standalone.",
      'reason',
      () => stats()?.nodeMessagesRejected,
    );
    stateGauges(registers, stats);
    replicationGauges(registers, stats, lag, peerId);
    stallGauges(registers, stats, stalls, peerId);
    // The node's clock (system-clock.ts) is wall time: snapshot times are stamped with it.
    this.natsReconnected = opsMetrics(registers, stats, dataDir, () => Date.now()).natsReconnected;
  }

  /**
   * Called every sampling period with the node's stats. The committed counter starts
   * from the watermark the node has once its log is replayed, so replay is not counted.
   */
  sample(s: NodeStats): void {
    if (s.role === 'starting' || s.role === 'recovering') return;
    if (this.committedSeen !== null && s.committedSeq > this.committedSeen) this.committed.inc(s.committedSeq - this.committedSeen);
    this.committedSeen = Math.max(this.committedSeen ?? 0, s.committedSeq);
  }

  observeRequest(kind: 'tx' | 'query', seconds: number): void {
    this.requestSeconds.observe({ kind }, seconds);
  }

  roleChange(c: RoleChange): void {
    this.roleChanges.inc({ from: c.from, to: c.to });
    if (c.from === 'standby' && c.to === 'promoting') this.failovers.inc();
  }

  logAppended(bytes: number): void {
    this.logBytes.inc(bytes);
  }

  logSynced(seconds: number): void {
    this.fsyncSeconds.observe(seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Requests waiting for their reply, by reply subject; beyond this many, new ones go unmeasured. */
const TIMED_REQUESTS_MAX = 10_000;

/**
 * The node's transport with request latency measured: a client message on the tx or
 * query subject notes its arrival under its reply subject, and the publish to that
 * subject observes the time taken. Requests that never get a reply (abandoned at a role
 * change) are forgotten when the map is full and on `forget()`.
 */
export function timedTransport(inner: Transport, subjects: { tx: string; query: string }, metrics: NodeMetrics): Transport & { forget(): void } {
  const started = new Map<string, { kind: 'tx' | 'query'; at: number }>();
  const wrap =
    (kind: 'tx' | 'query', handler: MessageHandler): MessageHandler =>
    (data, reply, json, subject) => {
      if (reply !== '' && started.size < TIMED_REQUESTS_MAX) started.set(reply, { kind, at: performance.now() });
      handler(data, reply, json, subject);
    };
  return {
    subscribe(subject, handler, opts) {
      const kind = subject === subjects.tx ? 'tx' : subject === subjects.query ? 'query' : null;
      return inner.subscribe(subject, kind === null ? handler : wrap(kind, handler), opts);
    },
    publish(subject: string, data: Uint8Array, opts?: PublishOptions) {
      if (started.size > 0) {
        const s = started.get(subject);
        if (s !== undefined) {
          started.delete(subject);
          metrics.observeRequest(s.kind, (performance.now() - s.at) / 1000);
        }
      }
      inner.publish(subject, data, opts);
    },
    request: (subject, data, timeoutMs) => inner.request(subject, data, timeoutMs),
    flush: () => inner.flush(),
    forget: () => started.clear(),
  };
}

/** The log storage with appended bytes counted and each fdatasync timed. */
export function timedLogStorage(inner: LogStorage, metrics: NodeMetrics): LogStorage {
  return {
    list: () => inner.list(),
    read: (name) => inner.read(name),
    readAt: (name, offset, length) => inner.readAt(name, offset, length),
    rename: (from, to) => inner.rename(from, to),
    truncate: (name, size) => inner.truncate(name, size),
    remove: (name) => inner.remove(name),
    writeAtomic: (name, chunks) => inner.writeAtomic(name, chunks),
    writeAt: (name, offset, bytes) => inner.writeAt(name, offset, bytes),
    async openAppend(name) {
      const h = await inner.openAppend(name);
      // A snapshot being written is not log traffic (it was a writeAtomic before it was
      // streamed): its 100 MB fsync would swamp the group-commit fsync histogram.
      if (name === SNAPSHOT_PART_NAME) return h;
      return {
        get size() {
          return h.size;
        },
        async append(chunks) {
          // The handle counts its own size: the difference is this group's bytes.
          const before = h.size;
          await h.append(chunks);
          metrics.logAppended(h.size - before);
        },
        async sync() {
          const t0 = performance.now();
          await h.sync();
          metrics.logSynced((performance.now() - t0) / 1000);
        },
        close: () => h.close(),
      };
    },
  };
}

type Registers = Registry[];

/** A gauge read from the node's stats at each scrape (absent until the node has stats). */
function statGauge(registers: Registers, stats: () => NodeStats | null, name: string, help: string, read: (s: NodeStats) => number): Gauge {
  return new Gauge({
    name,
    help,
    registers,
    collect() {
      const s = stats();
      if (s !== null) this.set(read(s));
    },
  });
}

/** Role, epoch, positions, and the counts of what the node holds. */
function stateGauges(registers: Registers, stats: () => NodeStats | null): void {
  const gauge = (name: string, help: string, read: (s: NodeStats) => number) => statGauge(registers, stats, name, help, read);
  new Gauge({
    name: 'txtest_role',
    help: 'The node role: 1 for the current one, 0 for the others.',
    labelNames: ['role'],
    registers,
    collect() {
      const s = stats();
      for (const r of ROLE_STATES) this.set({ role: r }, s?.role === r ? 1 : 0);
    },
  });
  new Gauge({ name: 'txtest_build_info', help: 'Always 1; the version label names the build this node runs.', labelNames: ['version'], registers }).set(
    { version: version() },
    1,
  );
  gauge('txtest_epoch', 'The epoch this node is in.', (s) => s.epoch);
  gauge('txtest_last_seq', 'Highest log position this node holds.', (s) => s.lastSeq);
  gauge('txtest_committed_seq', 'Committed watermark (primary: the reply gate; standby: held contiguously).', (s) => s.committedSeq);
  gauge('txtest_log_written_seq', 'Highest seq written to the local log file.', (s) => s.writtenSeq);
  gauge('txtest_log_synced_seq', 'Highest seq made durable by fdatasync.', (s) => s.syncedSeq);
  gauge('txtest_peer_connected', '1 while the peer has been heard within heartbeat-missed x interval.', (s) =>
    s.peerSilenceMs !== null && s.peerSilenceMs < s.heartbeatIntervalMs * s.heartbeatMissed ? 1 : 0,
  );
  gauge('txtest_inflight_updates', 'Updates admitted and not yet replied to.', (s) => s.inflight);
  gauge('txtest_mailbox_depth_max', 'The deepest asset mailbox.', (s) => s.mailboxDepthMax);
  gauge('txtest_assets', 'Assets in memory.', (s) => s.assets);
  gauge('txtest_dedupe_ids', 'Request ids remembered for exactly-once.', (s) => s.dedupeIds);
  gauge('txtest_epochs_opened', 'Epochs this node opened (starts as primary, failovers, moves to solo).', (s) => s.promotions);
  // Counts by kind, absent standalone.
  const byKind = (name: string, help: string, read: (s: NodeStats) => Record<string, number> | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        const s = stats();
        const c = s === null ? null : read(s);
        if (c) for (const [kind, n] of Object.entries(c)) this.set({ kind }, n);
      },
    });
  byKind(
    'txtest_syncs',
    'Joiner catch-ups served as primary, by kind: started (a new sync id), resumed (a repeated JOIN continued the running sync), snapshot (plans streaming a snapshot file), truncation (a divergent joiner truncated and took the tail). Absent standalone.',
    (s) => s.syncs as Record<string, number> | null,
  );
  byKind(
    'txtest_chain_replies',
    'With --reply-from standby: client replies forwarded to the standby (as primary) and published for the primary (as standby). Absent standalone.',
    (s) => s.chainReplies,
  );
  gauge('txtest_log_failed', '1 once the log failed and the node refuses updates.', (s) => (s.failed ? 1 : 0));
}

/** How far the follower is behind, and the peer's silence. */
function replicationGauges(registers: Registers, stats: () => NodeStats | null, lag: LagTracker, peerId: string | null): void {
  // Values that may not exist (no replication stream, no peer heard yet) are series
  // that come and go, rather than NaN (which prom-client writes as "Nan").
  new Gauge({
    name: 'txtest_replication_lag_seq',
    help: "Records the follower lacks, reported by side: the primary (its lastSeq minus the standby's ack) or the standby (the primary's lastSeq minus its own). Absent without a replication stream.",
    labelNames: ['side'],
    registers,
    collect() {
      this.reset();
      if (lag.side !== null) this.set({ side: lag.side }, lag.lagSeq);
    },
  });
  new Gauge({
    name: 'txtest_replication_lag_seconds',
    help: 'Age of the oldest record the follower lacks, by side (sampled every 50 ms). Absent without a replication stream.',
    labelNames: ['side'],
    registers,
    collect() {
      this.reset();
      if (lag.side !== null) this.set({ side: lag.side }, lag.lagMs / 1000);
    },
  });
  new Gauge({
    name: 'txtest_peer_silence_seconds',
    help: 'Time since the last message (heartbeat or replication) from the peer. Absent standalone and before the first.',
    labelNames: ['peer'],
    registers,
    collect() {
      this.reset();
      const s = stats();
      if (s !== null && s.peerSilenceMs !== null && peerId !== null) this.set({ peer: peerId }, s.peerSilenceMs / 1000);
    },
  });
}

/** How close the event loop came to the peer timeout (a false failover in the making). */
function stallGauges(registers: Registers, stats: () => NodeStats | null, stalls: EventLoopStalls, peerId: string | null): void {
  // A stall near the peer timeout is a false failover in the making: these say how close it came.
  new Gauge({
    name: 'txtest_event_loop_stall_max_seconds',
    help: `The longest event-loop stall (how late a 10 ms timer ran) over the last ${(stalls.bucketMs * stalls.buckets) / 1000} s.`,
    registers,
    collect() {
      this.set(stalls.recentMaxMs() / 1000);
    },
  });
  new Gauge({
    name: 'txtest_event_loop_stall_peak_seconds',
    help: 'The longest event-loop stall since the process started.',
    registers,
    collect() {
      this.set(stalls.peakMs() / 1000);
    },
  });
  new Gauge({
    name: 'txtest_heartbeat_late_max_seconds',
    help: 'How late the heartbeat timer ran at worst over the last 5 to 10 s: the stall as the failure detector saw it (the peer times out after heartbeat-missed x interval). Absent standalone.',
    labelNames: ['peer'],
    registers,
    collect() {
      this.reset();
      const s = stats();
      if (s !== null && s.beatLateMaxMs !== null && peerId !== null) this.set({ peer: peerId }, s.beatLateMaxMs / 1000);
    },
  });
}

/**
 * prom-client's default metrics export three totals as gauges named `..._total`, a
 * counter's suffix, which `promtool check metrics` refuses (and rate() on them would be
 * wrong); the same counts, by type, are in `..._active_handles` etc., so these go.
 */
function dropGaugesCalledTotal(registry: Registry): void {
  for (const what of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`txtest_process_nodejs_active_${what}_total`);
}
