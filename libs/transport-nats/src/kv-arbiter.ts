/**
 * The production Arbiter (docs/PAIR.md rule 5): one key, `primary`, in a JetStream KV
 * bucket per cluster, holding `{"epoch":N,"primary":"n1"}`. Compare-and-set is the
 * server's expected-last-subject-sequence check, so of two nodes writing at the same
 * revision the server accepts exactly one and refuses the other with "wrong last
 * sequence" (JetStream API error code 10071).
 */
import { jetstream, JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Arbiter, ArbiterRead, ArbiterValue, CasResult } from '@txtest/cluster';
import { DEFAULT_PREFIX, UNSHARDED, type ShardSpec } from '@txtest/protocol';

/** The key of an unsharded cluster's pair; shard k of several has `primary-k` (one bucket per cluster, one key per pair). */
export const ARBITER_KEY = 'primary';

export function arbiterKey(shard: ShardSpec = UNSHARDED): string {
  return shard.count === 1 ? ARBITER_KEY : `${ARBITER_KEY}-${shard.index}`;
}
export const DEFAULT_ARBITER_TIMEOUT_MS = 2000;
/** Enough history to see the last few elections when debugging with `nats kv history`. */
const HISTORY = 16;

export interface KvArbiterOptions {
  cluster: string;
  /** The subject prefix of the deployment; `txtest` when absent. */
  prefix?: string;
  /** Deadline for every KV operation, so a node never hangs on a dead arbiter. */
  timeoutMs?: number;
  /** Copies of the bucket a JetStream cluster keeps (default 1): 3 survive the loss of one server. */
  replicas?: number;
  /** The pair's shard: each shard's pair has a key of its own (default: the only one). */
  shard?: ShardSpec;
}

/**
 * The arbiter's replicas when the operator names none: 3 when the connection knows of at
 * least three servers in its NATS cluster (the INFO's `connect_urls`), else 1. A bucket
 * the cluster keeps three copies of decides even while one server is down.
 */
export function defaultArbiterReplicas(nc: NatsConnection): number {
  return (nc.info?.connect_urls?.length ?? 0) >= 3 ? 3 : 1;
}

/**
 * The bucket for a prefix and cluster. Bucket names allow only letters, digits, `_`
 * and `-`, so every other character becomes `_` (which means `a.b` and `a_b` share a
 * bucket; prefixes and clusters are subject tokens, so that does not arise in practice).
 */
export function arbiterBucketName(prefix: string, cluster: string): string {
  return `txtest_${prefix}_${cluster}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function isArbiterValue(v: unknown): v is ArbiterValue {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  const firstSeqOk = o['firstSeq'] === undefined || (Number.isSafeInteger(o['firstSeq']) && (o['firstSeq'] as number) >= 1);
  return Number.isSafeInteger(o['epoch']) && (o['epoch'] as number) >= 0 && typeof o['primary'] === 'string' && o['primary'] !== '' && firstSeqOk;
}

/** Only epoch, primary and (when known) firstSeq are written, in this order, whatever else the object carries. */
function encodeValue(v: ArbiterValue): Uint8Array {
  return encoder.encode(JSON.stringify({ epoch: v.epoch, primary: v.primary, ...(v.firstSeq === undefined ? {} : { firstSeq: v.firstSeq }) }));
}

/**
 * The server refuses a write whose expected last subject sequence is not the key's
 * current revision with API error 10071 ("wrong last sequence: N"); newer servers may
 * use 10164 when the sequence is unknown. `kv.create` on an existing key surfaces the
 * same error, because it is a write that expects revision 0. The message test is a
 * fallback in case the error arrives wrapped or from another copy of the client lib.
 */
function isCasConflict(err: unknown): boolean {
  if (err instanceof JetStreamApiError) {
    return err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown;
  }
  return err instanceof Error && /wrong last sequence/i.test(err.message);
}

/**
 * JetStream is missing when the server has no responders on `$JS.API` (JetStream off)
 * or says JetStream is not enabled for the account; the client reports both as an
 * error named JetStreamNotEnabled, which the public module does not export, so the
 * name is compared. A server too old for KV is treated the same way.
 */
function isJetStreamUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'JetStreamNotEnabled' || /jetstream is not enabled/i.test(err.message) || /kv is only supported on servers/i.test(err.message);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Races `p` against a deadline. The client's own request timeouts bound each round
 * trip, but `kv.create` can make three, so this bounds the whole operation. A late
 * result of `p` is ignored: Promise.race has already attached its handlers to it.
 */
async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * How long a bucket may take to be created and to answer reads. A JetStream cluster that
 * has just started elects its meta leader first (a few seconds, during which a create
 * times out), and a bucket just created with replicas answers its stream info at once
 * but reads only once its copies have elected a leader. A node must not fail its start
 * in either window (the dev cluster starts all three servers and both nodes at once).
 */
const READY_WITHIN_MS = 15_000;

/** Runs `op` again after a pause while it fails, until READY_WITHIN_MS from now; JetStream being off is an answer, not a failure. */
async function untilReady<T>(op: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + READY_WITHIN_MS;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (isJetStreamUnavailable(err) || Date.now() + timeoutMs > deadline) throw err;
      // A refusal without a leader can come back at once: do not spin on it.
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export class KvArbiter implements Arbiter {
  private closed = false;

  private constructor(
    private readonly kv: KV,
    readonly bucket: string,
    /** The pair's key in the bucket (arbiterKey). */
    readonly key: string,
    private readonly timeoutMs: number,
    /** Replicas of the bucket as the server keeps it. */
    readonly replicas: number,
    /** Set when the bucket existed with other settings than asked: one sentence for the log and the operator. */
    readonly mismatch: string | null,
  ) {}

  /**
   * Opens the cluster's bucket, creating it when missing. Resolves to null when the
   * server has no JetStream, so `--arbiter auto` can fall back to off; any other failure
   * (a timeout, a permissions error) throws, because then the operator asked for
   * something that exists but does not work.
   */
  static async open(nc: NatsConnection, opts: KvArbiterOptions): Promise<KvArbiter | null> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_ARBITER_TIMEOUT_MS;
    if (!(timeoutMs > 0)) throw new Error(`arbiter timeoutMs must be positive, not ${timeoutMs}`);
    const bucket = arbiterBucketName(opts.prefix ?? DEFAULT_PREFIX, opts.cluster);
    const key = arbiterKey(opts.shard);
    // A JetStream client of our own, so that every API request inherits our timeout
    // instead of the client's default of 5 s.
    const kvm = new Kvm(jetstream(nc, { timeout: timeoutMs }));
    try {
      // Kvm.create opens the bucket when the stream already exists (whatever its
      // history) and adds it otherwise; two nodes adding it at once is harmless,
      // since the server accepts an identical stream config twice.
      const replicas = opts.replicas ?? 1;
      const kv = await untilReady(
        () => withTimeout(kvm.create(bucket, { history: HISTORY, replicas }), timeoutMs, `opening arbiter bucket ${bucket}`),
        timeoutMs,
      );
      // An existing bucket is opened as it is: say so when it is not what was asked for.
      const status = await withTimeout(kv.status(), timeoutMs, `reading the settings of arbiter bucket ${bucket}`);
      const mismatch =
        status.replicas === replicas
          ? null
          : `arbiter bucket ${bucket} exists with ${status.replicas} replica(s), not the ${replicas} asked for: it is used as it is; to change it, edit the stream KV_${bucket} (nats stream edit KV_${bucket} --replicas ${replicas}) or delete the bucket while both nodes are down`;
      await untilReady(() => withTimeout(kv.get(key), timeoutMs, `reading arbiter bucket ${bucket}`), timeoutMs);
      return new KvArbiter(kv, bucket, key, timeoutMs, status.replicas, mismatch);
    } catch (err) {
      if (isJetStreamUnavailable(err)) return null;
      throw new Error(`cannot open arbiter bucket ${bucket}: ${describe(err)}`, { cause: err });
    }
  }

  async read(): Promise<ArbiterRead> {
    this.assertOpen();
    let entry: KvEntry | null;
    try {
      entry = await withTimeout(this.kv.get(this.key), this.timeoutMs, `reading ${this.where()}`);
    } catch (err) {
      throw new Error(`cannot read ${this.where()}: ${describe(err)}`, { cause: err });
    }
    // kv.get returns the delete or purge marker itself rather than null, so a removed
    // key is recognised by its operation and reported as absent; compareAndSet(0, ...)
    // then goes through kv.create, which knows how to write over such a marker.
    if (entry === null || entry.operation !== 'PUT') return { value: null, revision: 0 };
    return { value: this.decode(entry.value), revision: entry.revision };
  }

  async compareAndSet(revision: number, value: ArbiterValue): Promise<CasResult> {
    this.assertOpen();
    if (!Number.isSafeInteger(revision) || revision < 0) throw new Error(`arbiter revision must be a non-negative integer, not ${revision}`);
    // Refusing to write what read() would refuse to parse keeps a bad caller from
    // wedging the whole cluster behind an unreadable key.
    if (!isArbiterValue(value))
      throw new Error(
        `arbiter value must be {epoch: non-negative integer, primary: non-empty string, firstSeq?: positive integer}, not ${JSON.stringify(value)}`,
      );
    const data = encodeValue(value);
    try {
      const op = revision === 0 ? this.kv.create(this.key, data) : this.kv.update(this.key, data, revision, this.timeoutMs);
      const newRevision = await withTimeout(op, this.timeoutMs, `writing ${this.where()}`);
      return { ok: true, revision: newRevision };
    } catch (err) {
      if (isCasConflict(err)) return { ok: false, current: await this.read() };
      throw new Error(`cannot write ${this.where()} at revision ${revision}: ${describe(err)}`, { cause: err });
    }
  }

  /** The connection belongs to the caller and KV holds nothing else open, so this only marks the arbiter closed. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`arbiter ${this.where()} is closed`);
  }

  private where(): string {
    return `arbiter key ${this.key} in bucket ${this.bucket}`;
  }

  private decode(raw: Uint8Array): ArbiterValue {
    let parsed: unknown;
    try {
      parsed = JSON.parse(decoder.decode(raw));
    } catch (err) {
      throw new Error(`${this.where()} does not hold JSON: ${describe(err)}`, { cause: err });
    }
    if (!isArbiterValue(parsed)) throw new Error(`${this.where()} holds ${JSON.stringify(parsed)}, not {epoch, primary, firstSeq?}`);
    // Values written before firstSeq existed read as they are.
    return { epoch: parsed.epoch, primary: parsed.primary, ...(parsed.firstSeq === undefined ? {} : { firstSeq: parsed.firstSeq }) };
  }
}
