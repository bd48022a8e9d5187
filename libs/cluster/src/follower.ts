/**
 * The standby's side of replication: frames are taken strictly in seq order, appended
 * to the standby's own log unchanged and applied to its state (a hot standby); the
 * contiguous watermark is acknowledged as soon as a batch is received, before it is
 * applied (`--ack received`), or once the log has synced it (`--ack logged`). A gap
 * asks the primary to resend from the first missing seq; frames already held are
 * skipped, so duplicates and retransmits are harmless.
 */
import { frameEndAt, readEpoch, readSeq } from '@txtest/journal';
import { concatBytes, NodeKind, type ReplicateHeader, type SnapshotHeader } from '@txtest/protocol';
import type { PeerLink } from './peer-link';
import type { Logger } from './transport';

export interface FollowerDeps {
  link: PeerLink;
  nodeId: string;
  epoch(): number;
  ack: 'received' | 'logged';
  /** Appends the frame to the log and applies its record; seq is lastSeq + 1. */
  apply(epoch: number, seq: number, frame: Uint8Array, payloadStart: number): void;
  lastSeq(): number;
  /** Replaces all local state and log with a snapshot from the primary. */
  installSnapshot(seq: number, epoch: number, body: Uint8Array, history: [number, number][]): Promise<void>;
  /** The first live batch arrived with nothing missing: catch-up is over. */
  onCaughtUp(): void;
  /** How long to wait before asking again for the same missing seq. */
  resendRetryMs: number;
  log: Logger;
}

export class Follower {
  private ackScheduled = false;
  private resendAskedFor = 0;
  private resendAskedAt = Number.NEGATIVE_INFINITY;
  private snapshotPieces: Uint8Array[] = [];
  private installing = false;
  /** Seq of the snapshot installed since the last reset (-1: none); acks carry it as proof. */
  private installedSeq = -1;
  caughtUp = false;
  /** Seq the local log has synced (for `--ack logged`). */
  syncedSeq = 0;
  /** The primary's commit watermark, as last heard. */
  primaryCommitted = 0;
  private readonly ackFn = () => this.sendAck();
  /** Frames taken in seq order and acknowledged (`received`), applied in the microtask after the ack's flush. */
  private pending: Uint8Array[] = [];
  private applyScheduled = false;
  private catchUpPending = false;
  private readonly applyFn = () => this.applyPending();

  constructor(private readonly d: FollowerDeps) {}

  reset(): void {
    this.caughtUp = false;
    this.catchUpPending = false;
    this.pending = [];
    this.lastStreamAt = Number.NEGATIVE_INFINITY;
    this.resendAskedFor = 0;
    this.snapshotPieces = [];
    this.installedSeq = -1;
  }

  /** When the primary's stream last delivered anything (for re-sending JOIN). */
  lastStreamAt = Number.NEGATIVE_INFINITY;

  onReplicate(h: ReplicateHeader, payload: Uint8Array, now: number): void {
    this.lastStreamAt = now;
    if (this.installing) return;
    this.primaryCommitted = Math.max(this.primaryCommitted, h.committedSeq);
    let off = 0;
    let received = 0;
    let gapAt = 0;
    while (off < payload.length) {
      const next = frameEndAt(payload, off);
      if (next < 0) {
        this.d.log.warn({ firstSeq: h.firstSeq, offset: off }, 'dropped a replication batch with a damaged frame; asking for a resend');
        gapAt = this.receivedSeq() + 1;
        break;
      }
      const seq = readSeq(payload, off);
      const expected = this.receivedSeq() + 1;
      if (seq > expected) {
        gapAt = expected;
        break;
      }
      if (seq === expected) {
        this.pending.push(payload.subarray(off, next));
        received++;
      }
      off = next;
    }
    // A batch that starts beyond what this node holds (the live marker after a lost tail
    // batch carries no frame to show it) is a gap too: "caught up" must mean holding it all.
    if (gapAt === 0 && h.firstSeq > this.receivedSeq() + 1) gapAt = this.receivedSeq() + 1;
    // `--ack received` means in this node's memory, and the frames are: the ack goes
    // out first (the NATS flush is a microtask queued by this publish, so it runs before
    // the apply queued next), and the primary's wait does not include our apply.
    if (received > 0 && this.d.ack === 'received') this.sendAck();
    if (gapAt === 0 && h.live && !this.caughtUp) this.catchUpPending = true;
    if ((received > 0 || this.catchUpPending) && !this.applyScheduled) {
      this.applyScheduled = true;
      queueMicrotask(this.applyFn);
    }
    if (gapAt > 0) return this.askResend(gapAt, now);
    this.resendAskedFor = 0;
  }

  /** The highest seq held: applied, or received and waiting for its apply. */
  private receivedSeq(): number {
    const n = this.pending.length;
    return n === 0 ? this.d.lastSeq() : readSeq(this.pending[n - 1]!, 0);
  }

  private applyPending(): void {
    this.applyScheduled = false;
    const frames = this.pending;
    if (frames.length > 0) this.pending = [];
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      this.d.apply(readEpoch(f, 0), readSeq(f, 0), f, 20);
    }
    if (this.catchUpPending) {
      this.catchUpPending = false;
      this.caughtUp = true;
      this.d.onCaughtUp();
      this.scheduleAck();
    }
  }

  /**
   * Asks the primary for everything from `fromSeq` on. One request per missing seq and
   * retry interval: the resend itself may be lost, so the same seq is asked for again
   * once `resendRetryMs` has passed.
   */
  askResend(fromSeq: number, now: number): void {
    if (this.resendAskedFor === fromSeq && now - this.resendAskedAt < this.d.resendRetryMs) return;
    this.resendAskedFor = fromSeq;
    this.resendAskedAt = now;
    this.d.log.warn({ fromSeq }, 'gap in the replication stream: asking the primary to resend');
    this.d.link.send(NodeKind.RESEND, { from: this.d.nodeId, epoch: this.d.epoch(), fromSeq });
  }

  /** The standby's log synced up to seq (drives acks in `logged` mode). */
  onSynced(seq: number): void {
    this.syncedSeq = seq;
    if (this.d.ack === 'logged') this.scheduleAck();
  }

  scheduleAck(): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    queueMicrotask(this.ackFn);
  }

  private sendAck(): void {
    this.ackScheduled = false;
    const seq = this.d.ack === 'received' ? this.receivedSeq() : Math.min(this.syncedSeq, this.d.lastSeq());
    this.d.link.send(NodeKind.ACK, { from: this.d.nodeId, epoch: this.d.epoch(), seq, ...(this.installedSeq >= 0 ? { installed: this.installedSeq } : {}) });
  }

  async onSnapshot(h: SnapshotHeader, payload: Uint8Array, now: number): Promise<void> {
    this.lastStreamAt = now;
    // One install at a time: a second one would close the log under the first.
    if (this.installing) return;
    if (h.chunk === 0) this.snapshotPieces = [];
    if (h.chunk !== this.snapshotPieces.length) {
      this.d.log.warn({ chunk: h.chunk, expected: this.snapshotPieces.length }, 'snapshot piece out of order: asking to start over');
      this.snapshotPieces = [];
      return this.askResend(this.d.lastSeq() + 1, now);
    }
    this.snapshotPieces.push(payload.slice());
    if (!h.last) return;
    const body = concatBytes(this.snapshotPieces);
    this.snapshotPieces = [];
    this.installing = true;
    try {
      await this.d.installSnapshot(h.seq, h.epoch, body, h.history);
      this.installedSeq = h.seq;
    } finally {
      this.installing = false;
    }
    this.resendAskedFor = 0;
    this.scheduleAck();
  }
}
