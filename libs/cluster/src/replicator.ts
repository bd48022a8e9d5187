/**
 * The primary's side of replication (DESIGN.md section 3). Every frame the primary
 * logs is also kept in a bounded in-memory ring and, once the standby is live, sent in
 * one REPLICATE message per drain. A joining standby first catches up: from the ring,
 * else from the log, else (too far behind, or its log diverges from ours) from a
 * snapshot followed by the tail, while the primary keeps serving. A RESEND (the
 * standby saw a gap) drops back to catching up from the seq it names.
 */
import { readFrames, JournalRangeError, type LogStorage } from '@txtest/journal';
import { concatBytes, NodeKind, type AckHeader, type NodeSummary, type ResendHeader } from '@txtest/protocol';
import { agreedPrefix } from './election';
import type { PeerLink } from './peer-link';
import type { Logger } from './transport';

export interface ReplicatorDeps {
  link: PeerLink;
  nodeId: string;
  epoch(): number;
  lastSeq(): number;
  committedSeq(): number;
  history(): [number, number][];
  storage: LogStorage;
  /** The committed state as snapshot body chunks, and the seq it reflects. */
  snapshot(): Promise<{ seq: number; chunks: Uint8Array[] }>;
  /** The standby acknowledged everything up to seq. */
  onAck(seq: number): void;
  /** The standby has caught up and receives live batches now. */
  onLive(): void;
  log: Logger;
  ringBytesMax?: number;
  /** A joiner further behind than this many records gets a snapshot instead of the tail. */
  tailRecordsMax?: number;
  /** Test-only fault (faults.ts): treat a joiner's divergent suffix as agreed, so it is never truncated. */
  skipRejoinTruncation?: boolean;
}

const CHUNK_BYTES = 512 * 1024;

export class Replicator {
  private ring: Uint8Array[] = [];
  private ringHead = 0;
  private ringFirstSeq = 1;
  private ringBytes = 0;
  private batch: Uint8Array[] = [];
  private batchFirstSeq = 0;
  private flushScheduled = false;
  mode: 'none' | 'catchup' | 'live' = 'none';
  private nextSeq = 0;
  private pumping = false;
  private generation = 0;
  standbyAck = 0;
  /**
   * Set while a joiner must start over from a snapshot (its log diverges, or it is too far
   * behind) until it acknowledges the snapshot's seq: a RESEND before that (the snapshot
   * was lost) gets the snapshot again, never a tail that would sit on its divergent log.
   */
  private snapshotPending = false;
  /** The pending snapshot's seq; -1 while it is still being taken. */
  private snapshotSeq = -1;
  private acksIgnored = 0;
  private readonly ringBytesMax: number;
  private readonly tailRecordsMax: number;
  private readonly flushFn = () => this.flush();

  constructor(private readonly d: ReplicatorDeps) {
    this.ringBytesMax = d.ringBytesMax ?? 32 * 1024 * 1024;
    this.tailRecordsMax = d.tailRecordsMax ?? 500_000;
  }

  /** Where the ring starts when the node begins to write at `nextSeq`. */
  reset(nextSeq: number): void {
    this.ring = [];
    this.ringHead = 0;
    this.ringFirstSeq = nextSeq;
    this.ringBytes = 0;
    this.batch = [];
    this.stopFollowing();
  }

  stopFollowing(): void {
    this.mode = 'none';
    this.snapshotPending = false;
    this.generation++;
    this.standbyAck = 0;
    this.batch = [];
  }

  /** Every frame the primary writes, in seq order. */
  onFrame(seq: number, frame: Uint8Array): void {
    this.ring.push(frame);
    this.ringBytes += frame.length;
    while (this.ringBytes > this.ringBytesMax && this.ring.length - this.ringHead > 1) {
      this.ringBytes -= this.ring[this.ringHead]!.length;
      this.ring[this.ringHead++] = undefined as unknown as Uint8Array;
      this.ringFirstSeq++;
    }
    if (this.ringHead > 4096 && this.ringHead * 2 > this.ring.length) {
      this.ring = this.ring.slice(this.ringHead);
      this.ringHead = 0;
    }
    if (this.mode !== 'live') return;
    if (this.batch.length === 0) this.batchFirstSeq = seq;
    this.batch.push(frame);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flushFn);
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.batch.length === 0 || this.mode !== 'live') return;
    this.send(this.batchFirstSeq, this.batch, true);
    this.batch = [];
  }

  private send(firstSeq: number, frames: Uint8Array[], live: boolean): void {
    this.d.link.send(
      NodeKind.REPLICATE,
      { from: this.d.nodeId, epoch: this.d.epoch(), firstSeq, count: frames.length, committedSeq: this.d.committedSeq(), live },
      frames,
    );
  }

  onAck(h: AckHeader): void {
    if (this.snapshotPending) {
      // Until the joiner shows it installed the snapshot, its acks speak of its old,
      // divergent log (the snapshot may have been lost on the way): they count for nothing.
      if (this.snapshotSeq < 0 || h.installed !== this.snapshotSeq) {
        if (++this.acksIgnored % 8 === 0) void this.sendSnapshot();
        return;
      }
      this.snapshotPending = false;
    }
    if (h.seq > this.standbyAck) {
      this.standbyAck = h.seq;
      this.d.onAck(h.seq);
      if (this.ackWaiter !== null && h.seq >= this.ackWaiter.seq) {
        const w = this.ackWaiter;
        this.ackWaiter = null;
        w.resolve();
      }
    }
  }

  private ackWaiter: { seq: number; resolve: () => void } | null = null;

  /** Resolves once the standby has acknowledged `seq` (one waiter: the handover). */
  whenAcked(seq: number): Promise<void> {
    if (this.standbyAck >= seq) return Promise.resolve();
    return new Promise((resolve) => (this.ackWaiter = { seq, resolve }));
  }

  onResend(h: ResendHeader): void {
    if (this.mode === 'none') return;
    if (this.snapshotPending) {
      this.d.log.warn({ fromSeq: h.fromSeq }, 'standby reported a gap before it installed its snapshot: sending the snapshot again');
      return void this.sendSnapshot();
    }
    this.d.log.warn({ fromSeq: h.fromSeq }, 'standby reported a gap: retransmitting');
    this.catchUpFrom(h.fromSeq);
  }

  /** A standby asks to join: find where its log agrees with ours, then catch it up. */
  onJoin(s: NodeSummary): void {
    const mine = { history: this.d.history(), lastSeq: this.d.lastSeq() };
    const agreed = this.d.skipRejoinTruncation ? Math.min(s.lastSeq, mine.lastSeq) : agreedPrefix(mine, s);
    const behind = mine.lastSeq - agreed;
    if (agreed === s.lastSeq && behind <= this.tailRecordsMax) {
      this.d.log.info({ standby: s.from, fromSeq: agreed + 1, records: behind }, 'standby joins: sending the tail');
      this.snapshotPending = false;
      this.catchUpFrom(agreed + 1);
      return;
    }
    if (s.lastSeq > agreed) {
      this.d.log.warn({ standby: s.from, agreed, discarded: `${agreed + 1}..${s.lastSeq}` }, 'standby joins with records never confirmed: it starts over from a snapshot');
    } else {
      this.d.log.info({ standby: s.from, behind }, 'standby joins far behind: sending a snapshot and the tail');
    }
    void this.sendSnapshot();
  }

  private catchUpFrom(seq: number): void {
    this.mode = 'catchup';
    this.generation++;
    this.batch = [];
    this.nextSeq = seq;
    void this.pump(this.generation);
  }

  private async sendSnapshot(): Promise<void> {
    this.mode = 'catchup';
    const gen = ++this.generation;
    this.batch = [];
    this.snapshotPending = true;
    this.snapshotSeq = -1;
    const snap = await this.d.snapshot();
    if (gen !== this.generation) return;
    this.snapshotSeq = snap.seq;
    const body = concatBytes(snap.chunks);
    const total = body.length;
    const history = this.d.history().filter(([, first]) => first <= snap.seq);
    const pieces = Math.max(1, Math.ceil(total / CHUNK_BYTES));
    for (let i = 0; i < pieces; i++) {
      const piece = body.subarray(i * CHUNK_BYTES, Math.min(total, (i + 1) * CHUNK_BYTES));
      this.d.link.send(NodeKind.SNAPSHOT, { from: this.d.nodeId, epoch: this.d.epoch(), seq: snap.seq, history, chunk: i, last: i === pieces - 1 }, [piece]);
    }
    this.d.log.info({ seq: snap.seq, bytes: total, pieces }, 'snapshot sent to the standby');
    this.nextSeq = snap.seq + 1;
    await this.pump(gen);
  }

  /** Sends [nextSeq, lastSeq] from the ring or the log, then goes live. */
  private async pump(gen: number): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (gen === this.generation) {
        const last = this.d.lastSeq();
        if (this.nextSeq > last) {
          this.mode = 'live';
          // An empty live batch tells the standby it has everything, even when nothing was missing.
          this.send(this.nextSeq, [], true);
          this.d.onLive();
          return;
        }
        if (this.nextSeq >= this.ringFirstSeq && this.ring.length - this.ringHead >= this.d.lastSeq() - this.ringFirstSeq + 1) {
          // From memory: synchronous, so nothing can slip in between the last range and going live.
          while (this.nextSeq <= this.d.lastSeq()) {
            const frames: Uint8Array[] = [];
            let bytes = 0;
            const first = this.nextSeq;
            while (this.nextSeq <= this.d.lastSeq() && bytes < CHUNK_BYTES) {
              const f = this.ring[this.ringHead + (this.nextSeq - this.ringFirstSeq)]!;
              frames.push(f);
              bytes += f.length;
              this.nextSeq++;
            }
            this.send(first, frames, false);
          }
          continue;
        }
        let frames: Uint8Array[];
        try {
          frames = await readFrames(this.d.storage, this.nextSeq, CHUNK_BYTES);
        } catch (err) {
          if (err instanceof JournalRangeError) {
            this.pumping = false;
            return void this.sendSnapshot();
          }
          throw err;
        }
        if (gen !== this.generation) return;
        if (frames.length === 0) {
          // Not yet in the log but also not in the ring: only a snapshot can bridge it.
          this.pumping = false;
          return void this.sendSnapshot();
        }
        this.d.log.info({ fromSeq: this.nextSeq, records: frames.length }, 'resending from the log (no longer in memory)');
        this.send(this.nextSeq, frames, false);
        this.nextSeq += frames.length;
      }
    } finally {
      this.pumping = false;
    }
  }
}
