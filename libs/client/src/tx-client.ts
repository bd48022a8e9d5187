/**
 * TxClient: the application's door to a TxTest cluster. Clients address the cluster
 * subject, never a node, so failover shows up only as a short pause:
 *
 * - every update gets an id (generated unless given) that all its retries reuse, so
 *   the server applies it at most once and a retry gets the original reply;
 * - updates issued in the same event-loop turn travel in one `{ batch }` message
 *   (up to the entry and size limits), unless batching is off;
 * - timeouts, "no responders", NOT_PRIMARY and OVERLOADED are retried with capped,
 *   jittered exponential back-off until the request's deadline;
 * - in a sharded cluster (`shards`), each update goes to the pair that owns its asset,
 *   with one batch per shard and turn; each promise still settles with its own reply.
 */
import { randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  BATCH_ENTRIES_MAX,
  BODY_BYTES_MAX,
  DEFAULT_CLUSTER,
  DEFAULT_PREFIX,
  TxError,
  decodeBody,
  isRetryable,
  packMsgpack,
  shardOf,
  shardSpecProblem,
  subjects,
  unpackMsgpack,
  type Args,
  type BatchReply,
  type ErrorCode,
  type QueryReply,
  type Subjects,
  type UpdateEvent,
  type UpdateOk,
  type UpdateRejected,
  type UpdateReply,
  type UpdateRequest,
} from '@txtest/protocol';
import { ReplyMux, type MuxOutcome } from './mux';
import { RttEstimator } from './rtt';

export interface TxClientOptions {
  prefix?: string;
  cluster?: string;
  /** Send updates of one event-loop turn together (default true). */
  batching?: boolean;
  /**
   * How long one attempt waits for its reply at least (default 250 ms): a request sent to
   * a primary that just died is retried (same id) soon after the standby has taken over
   * (~0.2 s). Under load the wait grows with the measured round trip (rtt.ts).
   */
  attemptTimeoutMs?: number;
  /** How long an update keeps retrying before it fails with TIMEOUT (default 30 s). */
  deadlineMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Entries per batch message (default and maximum 1024). */
  batchEntriesMax?: number;
  /**
   * Shards of the cluster (default 1; docs/SHARDING.md): each update and query goes to the
   * pair that owns its asset (`fnv1a32(asset) mod shards`), and a turn's updates travel
   * in one batch per shard. Must match the nodes' `--shards`.
   */
  shards?: number;
  /** Called for every retry, with its reason (for the loadgen's counters). */
  onRetry?: (reason: string) => void;
  /**
   * The prefix of this client's reply subjects (default `_INBOX`): a deployment whose
   * client user may subscribe only to its own inboxes (docs/SECURITY.md) sets the same
   * prefix here and on the connection (`inboxPrefix`).
   */
  inboxPrefix?: string;
}

export interface UpdateInput {
  asset: string;
  op: string;
  args?: Args;
  model?: string;
  /** Reuse a known id (an application-level retry); generated when absent. */
  id?: string;
}

export type UpdateResult = UpdateOk | UpdateRejected;

/**
 * The route to one shard's pair: its subjects, its own reply mux and round-trip estimate
 * (a failover of one pair must not look like silence, or slowness, of the others), and
 * the updates of this turn waiting to go there.
 */
class Lane {
  readonly rtt = new RttEstimator();
  readonly mux: ReplyMux;
  queue: Job[] = [];
  flushScheduled = false;
  /** Sends this lane's queue (bound once: a flush is scheduled every turn). */
  readonly flushFn: () => void;

  constructor(
    readonly subjects: Subjects,
    nc: NatsConnection,
    inboxPrefix: string | undefined,
    flush: (lane: Lane) => void,
  ) {
    this.mux = new ReplyMux(nc, inboxPrefix, (fromNode) => (fromNode ? this.rtt.replied(performance.now()) : this.rtt.noResponders(performance.now())));
    this.flushFn = () => flush(this);
  }
}

interface Job {
  lane: Lane;
  req: UpdateRequest;
  bytes: number;
  attempts: number;
  deadline: number;
  /** Resolved or rejected: a late reply of an earlier attempt may have settled it while a retry was out. */
  settled: boolean;
  resolve: (r: UpdateResult) => void;
  reject: (e: Error) => void;
}

/** An update's outcome: applied, or refused by its model (REJECTED carries a seq); anything else is a refusal of the request. */
function isOutcome(reply: UpdateReply): reply is UpdateResult {
  return reply.ok || ('seq' in reply && reply.error.code === 'REJECTED');
}

/** Settles a job once, with its outcome or its error. */
function finish(job: Job, result: UpdateResult | TxError): void {
  job.settled = true;
  if (result instanceof TxError) job.reject(result);
  else job.resolve(result);
}

/**
 * Upper bound of an entry's encoded size, to keep batches under the body limit without
 * encoding twice: strings count 3 bytes a character (UTF-8's worst case for UTF-16
 * units), every other scalar 9 bytes, every container 5 bytes of header.
 */
function estimateBytes(req: UpdateRequest): number {
  return 48 + 3 * (req.id.length + req.asset.length + req.op.length + (req.model?.length ?? 0)) + (req.args === undefined ? 0 : valueBytes(req.args, 0));
}

function valueBytes(v: unknown, depth: number): number {
  if (typeof v === 'string') return 5 + 3 * v.length;
  if (typeof v !== 'object' || v === null) return 9;
  if (depth > 64) return Infinity; // refused by the server anyway; keeps a cyclic value from looping
  let n = 5;
  if (Array.isArray(v)) for (const x of v) n += valueBytes(x, depth + 1);
  else for (const k in v) n += 5 + 3 * k.length + valueBytes((v as Record<string, unknown>)[k], depth + 1);
  return n;
}

export class TxClient {
  /** The subjects of shard 0 (of the whole cluster when unsharded); `lanes` has every shard's. */
  readonly subjects: Subjects;
  readonly shards: number;
  private readonly lanes: Lane[];
  private readonly batching: boolean;
  private readonly attemptTimeoutMs: number;
  private readonly deadlineMs: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly batchEntriesMax: number;
  private readonly idPrefix = `${randomBytes(9).toString('base64url')}-`;
  private idCounter = 0;
  private closed = false;

  constructor(
    readonly nc: NatsConnection,
    private readonly opts: TxClientOptions = {},
  ) {
    this.shards = opts.shards ?? 1;
    const problem = shardSpecProblem({ index: 0, count: this.shards });
    if (problem !== null) throw new TypeError(`TxClient: ${problem}`);
    const prefix = opts.prefix ?? DEFAULT_PREFIX;
    const cluster = opts.cluster ?? DEFAULT_CLUSTER;
    this.lanes = Array.from(
      { length: this.shards },
      (_, index) => new Lane(subjects(prefix, cluster, { index, count: this.shards }), nc, opts.inboxPrefix, (lane) => this.flush(lane)),
    );
    this.subjects = this.lanes[0]!.subjects;
    this.batching = opts.batching ?? true;
    this.attemptTimeoutMs = opts.attemptTimeoutMs ?? 250;
    this.deadlineMs = opts.deadlineMs ?? 30_000;
    this.backoffInitialMs = opts.backoffInitialMs ?? 5;
    this.backoffMaxMs = opts.backoffMaxMs ?? 100;
    this.batchEntriesMax = Math.min(opts.batchEntriesMax ?? BATCH_ENTRIES_MAX, BATCH_ENTRIES_MAX);
  }

  /** A fresh id, unique to this client instance. */
  newId(): string {
    return this.idPrefix + (this.idCounter++).toString(36);
  }

  /**
   * Applies one update. Resolves with the server's reply once it is committed (ok, or
   * REJECTED by the model); rejects with a TxError for other refusals or at the deadline.
   */
  update(u: UpdateInput): Promise<UpdateResult> {
    if (this.closed) return Promise.reject(new TxError('NOT_PRIMARY', 'client is closed'));
    const req: UpdateRequest = { id: u.id ?? this.newId(), asset: u.asset, op: u.op };
    if (u.args !== undefined) req.args = u.args;
    if (u.model !== undefined) req.model = u.model;
    return new Promise<UpdateResult>((resolve, reject) => {
      const lane = this.laneOf(u.asset);
      this.enqueue({ lane, req, bytes: estimateBytes(req), attempts: 0, deadline: performance.now() + this.deadlineMs, settled: false, resolve, reject });
    });
  }

  /** The shard that owns `asset`, by the nodes' own rule. */
  shardOf(asset: string): number {
    return shardOf(asset, this.shards);
  }

  private laneOf(asset: string): Lane {
    return this.lanes[shardOf(asset, this.shards)]!;
  }

  private enqueue(job: Job): void {
    if (!this.batching) return this.sendSingle(job);
    const lane = job.lane;
    lane.queue.push(job);
    if (!lane.flushScheduled) {
      lane.flushScheduled = true;
      queueMicrotask(lane.flushFn);
    }
  }

  private flush(lane: Lane): void {
    lane.flushScheduled = false;
    const jobs = lane.queue;
    lane.queue = [];
    const budget = BODY_BYTES_MAX - 1024;
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < jobs.length; i++) {
      const full = i - start >= this.batchEntriesMax || bytes + jobs[i]!.bytes > budget;
      if (full && i > start) {
        this.sendBatch(lane, jobs.slice(start, i));
        start = i;
        bytes = 0;
      }
      bytes += jobs[i]!.bytes;
    }
    if (start < jobs.length) this.sendBatch(lane, start === 0 ? jobs : jobs.slice(start));
  }

  private attemptTimeout(lane: Lane): number {
    return lane.rtt.timeoutMs(this.attemptTimeoutMs, this.deadlineMs);
  }

  private sendSingle(job: Job): void {
    const { lane } = job;
    job.attempts++;
    const sentAt = performance.now();
    const timeoutMs = this.attemptTimeout(lane);
    lane.mux.request(lane.subjects.tx, packMsgpack(job.req), timeoutMs, (o) => this.onSingle(job, o, sentAt));
  }

  private onSingle(job: Job, o: MuxOutcome, sentAt: number): void {
    if (job.settled) return;
    const { rtt } = job.lane;
    if (o.kind === 'late') return this.settleLate(job, unpackMsgpack(o.data) as UpdateReply);
    if (o.kind === 'timeout') rtt.timedOut(sentAt, performance.now());
    if (o.kind !== 'reply') return this.retry(job, o.kind);
    if (job.attempts === 1) rtt.sample(performance.now() - sentAt);
    this.settle(job, unpackMsgpack(o.data) as UpdateReply);
  }

  private sendBatch(lane: Lane, jobs: Job[]): void {
    if (jobs.length === 1) return this.sendSingle(jobs[0]!);
    const batch = new Array<UpdateRequest>(jobs.length);
    for (let i = 0; i < jobs.length; i++) {
      jobs[i]!.attempts++;
      batch[i] = jobs[i]!.req;
    }
    const sentAt = performance.now();
    const timeoutMs = this.attemptTimeout(lane);
    lane.mux.request(lane.subjects.tx, packMsgpack({ batch }), timeoutMs, (o) => this.onBatch(lane, jobs, o, sentAt));
  }

  private onBatch(lane: Lane, jobs: Job[], o: MuxOutcome, sentAt: number): void {
    if (o.kind === 'timeout') lane.rtt.timedOut(sentAt, performance.now());
    if (o.kind !== 'reply' && o.kind !== 'late') {
      for (const job of jobs) this.retry(job, o.kind);
      return;
    }
    if (o.kind === 'reply' && jobs[0]!.attempts === 1) lane.rtt.sample(performance.now() - sentAt);
    const settle = o.kind === 'late' ? this.settleLate : this.settle;
    const body = unpackMsgpack(o.data) as BatchReply | UpdateReply;
    if (!('batch' in body) || !Array.isArray(body.batch) || body.batch.length !== jobs.length) {
      // A whole-message refusal (e.g. TOO_LARGE) applies to every entry.
      for (const job of jobs) settle(job, body as UpdateReply);
      return;
    }
    for (let i = 0; i < jobs.length; i++) settle(jobs[i]!, body.batch[i]!);
  }

  /**
   * A reply to an attempt that had timed out, while a retry is out: an outcome settles the
   * job (the retry's answer would be the same, from the server's dedupe memory); a
   * retryable refusal is ignored, since the retry already asks again.
   */
  private readonly settleLate = (job: Job, reply: UpdateReply): void => {
    if (isOutcome(reply) || !isRetryable(reply.error.code)) this.settle(job, reply);
  };

  private readonly settle = (job: Job, reply: UpdateReply): void => {
    if (job.settled) return;
    if (isOutcome(reply)) return finish(job, reply);
    const code = reply.error.code;
    if (isRetryable(code)) return this.retry(job, code);
    finish(job, new TxError(code as ErrorCode, reply.error.message));
  };

  private retry(job: Job, reason: string): void {
    if (job.settled) return;
    if (this.closed) return finish(job, new TxError('NOT_PRIMARY', `client closed while update ${job.req.id} was pending`));
    const now = performance.now();
    if (now >= job.deadline) {
      return finish(job, new TxError('TIMEOUT', `update ${job.req.id} got no reply within ${this.deadlineMs} ms (last: ${reason}, ${job.attempts} attempts)`));
    }
    this.opts.onRetry?.(reason);
    const exp = job.lane.rtt.backoffMs(reason, job.attempts, now, this.backoffInitialMs, this.backoffMaxMs);
    const delay = Math.min(exp / 2 + Math.random() * (exp / 2), job.deadline - now);
    setTimeout(() => {
      if (!job.settled) this.enqueue(job);
    }, delay);
  }

  /** Reads one asset's committed state; null when it does not exist. Retries like update(). */
  async query(asset: string): Promise<Extract<QueryReply, { ok: true }> | null> {
    const deadline = performance.now() + this.deadlineMs;
    const lane = this.laneOf(asset);
    for (let attempt = 0; ; attempt++) {
      const o = await new Promise<MuxOutcome>((res) => lane.mux.request(lane.subjects.query, packMsgpack({ asset }), this.attemptTimeoutMs, res));
      if (o.kind === 'reply') {
        const r = unpackMsgpack(o.data) as QueryReply;
        if (r.ok) return r;
        if (r.error.code === 'NOT_FOUND') return null;
        if (!isRetryable(r.error.code)) throw new TxError(r.error.code, r.error.message);
      } else if (o.kind === 'closed') {
        throw new TxError('NOT_PRIMARY', 'client is closed');
      }
      if (performance.now() >= deadline) throw new TxError('TIMEOUT', `query of "${asset}" got no reply within ${this.deadlineMs} ms`);
      await new Promise((r) => setTimeout(r, Math.min(this.backoffMaxMs, this.backoffInitialMs * 2 ** Math.min(attempt, 16))));
    }
  }

  /** Subscribes to committed updates of one asset, or of all with '>'. */
  events(asset: string, onEvent: (e: UpdateEvent) => void): { unsubscribe(): void } {
    const subject = asset === '>' ? this.subjects.eventsAll : this.subjects.events(asset);
    const sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err !== null) return;
        const d = decodeBody(msg.data, 'msgpack');
        if (d.ok) onEvent(d.value as UpdateEvent);
      },
    });
    return { unsubscribe: () => sub.unsubscribe() };
  }

  /** Requests in flight (messages, not entries). */
  get outstanding(): number {
    let n = 0;
    for (const lane of this.lanes) n += lane.mux.size;
    return n;
  }

  close(): void {
    this.closed = true;
    for (const lane of this.lanes) lane.mux.close();
  }
}
