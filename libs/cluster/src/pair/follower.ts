/**
 * The standby's side of replication: frames are taken strictly in seq order, appended
 * to the standby's own log unchanged and applied to its state (a hot standby); the
 * contiguous watermark is acknowledged as soon as a batch is received, before it is
 * applied (`--ack received`), or once the log has synced it (`--ack logged`). A gap
 * asks the primary to resend from the first missing seq; frames already held are
 * skipped, so duplicates and retransmits are harmless.
 *
 * Catching up is one sync, named by the id this node put in its JOIN: the primary's
 * SYNC says where the logs agree; this node first drops every record after that point
 * (log and state), or, when a snapshot is coming, writes its pieces to a part file as
 * they arrive (acknowledging bytes written) and installs it once verified. Only then
 * does it take frames, and only frames of that sync.
 */
import { frameEndAt, IncomingSnapshot, readEpoch, readSeq, SnapshotCorruptError, type LogStorage } from '@txtest/journal';
import { NodeKind, readForwardedReplies, type ReplicateHeader, type SnapshotHeader, type SyncHeader } from '@txtest/protocol';
import type { PeerLink } from './peer-link';
import type { Logger } from '../transport';

export interface FollowerDeps {
  link: PeerLink;
  nodeId: string;
  epoch(): number;
  ack: 'received' | 'logged';
  storage: LogStorage;
  /** Appends the frame to the log and applies its record; seq is lastSeq + 1. */
  apply(epoch: number, seq: number, frame: Uint8Array, payloadStart: number): void;
  lastSeq(): number;
  /** Runs `fn` on a later turn of the event loop (a timer), so a long apply yields between slices. */
  later(fn: () => void): void;
  /** Drops every record after `agreed` from the log and the state; resolves with the seq now held. */
  rollBack(agreed: number): Promise<number>;
  /** Replaces all local state and log with the verified snapshot file. */
  installSnapshot(file: IncomingSnapshot, seq: number, epoch: number, history: [number, number][]): Promise<void>;
  /** The first live batch arrived with nothing missing: catch-up is over. */
  onCaughtUp(): void;
  /** The sync cannot go on (a snapshot arrived damaged): join again with a new sync id. */
  rejoin(why: string): void;
  /** The local log or epoch record failed while catching up. */
  fail(err: Error): void;
  /** How long to wait before asking again for the same missing seq (or snapshot byte). */
  resendRetryMs: number;
  /** Publishes a client reply the primary forwarded (`--reply-from standby`). */
  publishReply(subject: string, body: Uint8Array, json: boolean): void;
  /** Whether this node is the standby now (only a standby publishes its primary's replies). */
  isStandby(): boolean;
  /**
   * What forwarded replies wait for: the log's write, or its sync (`--ack logged`, or
   * `--fsync always`); nothing only under the test-only fault `standby-replies-before-write`.
   */
  repliesWaitFor: 'written' | 'synced' | 'nothing';
  log: Logger;
}

/** Frames applied per turn: a few milliseconds (a 20,000-record tail took 170 ms in one go). */
const APPLY_SLICE_FRAMES = 1024;

export class Follower {
  private ackScheduled = false;
  private resendAskedFor = 0;
  private resendAskedAt = Number.NEGATIVE_INFINITY;
  /** The id of this node's current sync (its JOINs carry it). */
  syncId = '';
  /** The primary's plan for it, once received; `planDone` once carried out. */
  private plan: SyncHeader | null = null;
  private planDone = false;
  /** Rolling back or installing: nothing else touches the log or the state meanwhile. */
  busy = false;
  private incoming: IncomingSnapshot | null = null;
  /** Seq of the snapshot installed in this sync (-1: none); acks carry it as proof. */
  private installedSeq = -1;
  caughtUp = false;
  /** Seq the local log has synced (for `--ack logged`). */
  syncedSeq = 0;
  private readonly ackFn = () => this.sendAck();
  /** Frames taken in seq order and acknowledged (`received`), applied in the microtask after the ack's flush. */
  private pending: Uint8Array[] = [];
  /** How many of `pending` are applied already (a long catch-up is applied a slice per turn). */
  private pendingFrom = 0;
  private applying = false;
  private drainAll = false;
  private applyScheduled = false;
  private catchUpPending = false;
  private readonly applyFn = () => this.applyPending();
  /** Seq the local log has written (what forwarded replies wait for, unless they wait for its sync). */
  writtenSeq = 0;
  /** Forwarded client replies: [the seq the log must hold first, the epoch they came in, the reply section]. */
  private replies: [number, number, Uint8Array][] = [];
  /** Forwarded client replies published (for status). */
  repliesPublished = 0;

  constructor(private readonly d: FollowerDeps) {}

  /** A new sync begins (this node entered syncing): `syncId` goes into its JOINs. */
  reset(syncId: string): void {
    this.syncId = syncId;
    this.plan = null;
    this.planDone = false;
    this.caughtUp = false;
    this.catchUpPending = false;
    // What was received (and perhaps acknowledged) goes into the log and state first.
    this.drain();
    this.replies = [];
    this.lastStreamAt = Number.NEGATIVE_INFINITY;
    this.resendAskedFor = 0;
    this.installedSeq = -1;
    this.dropIncoming();
  }

  /** When the primary's stream last delivered anything (for re-sending JOIN). */
  lastStreamAt = Number.NEGATIVE_INFINITY;

  private dropIncoming(): void {
    const inc = this.incoming;
    this.incoming = null;
    if (inc !== null && !this.busy)
      void inc.discard().catch((err: Error) => this.d.log.warn({ err: err.message }, 'could not remove a partly received snapshot'));
  }

  /** Whether `h` is a plan of this node's sync that it has not carried out yet. */
  isNewPlan(h: SyncHeader): boolean {
    return h.syncId === this.syncId && (this.plan === null || this.plan.plan !== h.plan);
  }

  /** The primary's plan for this node's sync: carried out once (a repeat is acknowledged again). */
  async onSync(h: SyncHeader, now: number): Promise<void> {
    // Only this node's own sync counts as a flowing stream: the primary may still be
    // retrying the plan of a sync this node's previous process asked for, and counting
    // that would keep this one from ever sending its JOIN again (sim seed 3182).
    if (h.syncId !== this.syncId) return;
    this.lastStreamAt = now;
    if (this.busy) return;
    if (this.plan !== null && this.plan.plan === h.plan) {
      if (this.planDone) this.sendAck();
      return;
    }
    const syncId = this.syncId;
    this.plan = h;
    this.planDone = false;
    this.caughtUp = false;
    this.drain();
    this.installedSeq = -1;
    this.dropIncoming();
    this.busy = true;
    try {
      if (h.snapshot !== null) {
        this.incoming = await IncomingSnapshot.open(this.d.storage, h.snapshot.seq, h.snapshot.bytes);
      } else if (h.agreed < this.d.lastSeq()) {
        await this.d.rollBack(h.agreed);
      }
    } finally {
      this.busy = false;
    }
    if (this.syncId !== syncId || this.plan !== h) return;
    this.planDone = true;
    this.resendAskedFor = 0;
    this.sendAck();
  }

  onReplicate(h: ReplicateHeader, payload: Uint8Array, now: number): void {
    if (h.syncId === this.syncId) this.lastStreamAt = now;
    // Frames of another sync, or before this one dropped its divergent records or
    // installed its snapshot, are not for this log.
    if (this.busy || !this.planDone || h.syncId !== this.syncId || (this.plan!.snapshot !== null && this.installedSeq < 0)) return;
    let off = 0;
    let received = 0;
    let gapAt = 0;
    const framesEnd = h.repliesAt ?? payload.length;
    while (off < framesEnd) {
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
    // Replies wait for this node's own log to hold what they reveal; with a gap they are
    // dropped (their clients retry, and get the outcome from the dedupe memory).
    if (h.repliesAt !== undefined) {
      this.replies.push([h.upTo ?? h.firstSeq + h.count - 1, h.epoch, payload.subarray(h.repliesAt)]);
      this.publishReplies();
    }
  }

  /** The standby's log wrote up to seq: forwarded replies it covers may leave. */
  onWritten(seq: number): void {
    this.writtenSeq = seq;
    if (this.replies.length > 0 && this.d.repliesWaitFor === 'written') this.publishReplies();
  }

  /** Publishes the forwarded replies whose records this node's log holds (synced, with `--ack logged`). */
  private publishReplies(): void {
    const wait = this.d.repliesWaitFor;
    const held = wait === 'written' ? this.writtenSeq : wait === 'synced' ? this.syncedSeq : Number.POSITIVE_INFINITY;
    const replies = this.replies;
    let i = 0;
    for (; i < replies.length && replies[i]![0] <= held; i++) {
      const [upTo, epoch, section] = replies[i]!;
      // Only a standby of the epoch they came in speaks for its primary.
      if (!this.d.isStandby() || epoch !== this.d.epoch()) continue;
      const problem = readForwardedReplies(section, (subject, body, json) => {
        this.repliesPublished++;
        this.d.publishReply(subject, body, json);
      });
      if (problem !== null) this.d.log.warn({ upTo, problem }, 'dropped forwarded client replies: the section is damaged');
    }
    if (i > 0) this.replies = i === replies.length ? [] : replies.slice(i);
  }

  /** The highest seq held: applied, or received and waiting for its apply. */
  private receivedSeq(): number {
    const n = this.pending.length;
    return n === 0 ? this.d.lastSeq() : readSeq(this.pending[n - 1]!, 0);
  }

  private applyPending(): void {
    this.applyScheduled = false;
    this.applySome(APPLY_SLICE_FRAMES);
    if (this.pendingFrom > 0) {
      // More than a slice arrived (a catch-up's tail): the rest after a timer, so the
      // heartbeat and the acks are not held up for the whole of it.
      this.applyScheduled = true;
      this.d.later(this.applyFn);
      return;
    }
    if (this.catchUpPending) {
      this.catchUpPending = false;
      this.caughtUp = true;
      this.d.onCaughtUp();
      this.scheduleAck();
    }
  }

  /**
   * Applies everything received now: before this node leaves standby (it may serve next,
   * and must hold all it acknowledged) and before a sync starts over.
   */
  drain(): void {
    this.applySome(Number.POSITIVE_INFINITY);
  }

  /** Applies up to `max` pending frames, in seq order. */
  private applySome(max: number): void {
    // An apply that fails the node may start a sync anew, which drains: the loop below
    // then goes on to the last frame, in order.
    if (this.applying) {
      this.drainAll = true;
      return;
    }
    const frames = this.pending;
    let i = this.pendingFrom;
    this.applying = true;
    try {
      for (const end = Math.min(frames.length, i + max); i < end || (this.drainAll && i < frames.length); i++) {
        const f = frames[i]!;
        this.d.apply(readEpoch(f, 0), readSeq(f, 0), f, 20);
      }
    } finally {
      this.applying = false;
      this.drainAll = false;
      if (this.pending === frames) {
        if (i >= frames.length) {
          this.pending = [];
          this.pendingFrom = 0;
        } else this.pendingFrom = i;
      }
    }
  }

  /** Whether a request for `key` may go out now: once per key and retry interval (the request itself may be lost). */
  private mayAsk(key: number, now: number): boolean {
    if (this.resendAskedFor === key && now - this.resendAskedAt < this.d.resendRetryMs) return false;
    this.resendAskedFor = key;
    this.resendAskedAt = now;
    return true;
  }

  /** Asks the primary for everything from `fromSeq` on. */
  askResend(fromSeq: number, now: number): void {
    if (!this.planDone || !this.mayAsk(fromSeq, now)) return;
    this.d.log.warn({ fromSeq }, 'gap in the replication stream: asking the primary to resend');
    this.d.link.send(NodeKind.RESEND, { from: this.d.nodeId, epoch: this.d.epoch(), syncId: this.syncId, fromSeq });
  }

  /** The standby's log synced up to seq (drives acks in `logged` mode). */
  onSynced(seq: number): void {
    this.syncedSeq = seq;
    if (this.d.ack === 'logged') this.scheduleAck();
    if (this.replies.length > 0 && this.d.repliesWaitFor === 'synced') this.publishReplies();
  }

  scheduleAck(): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    queueMicrotask(this.ackFn);
  }

  private sendAck(gap = false): void {
    this.ackScheduled = false;
    // Before the plan is carried out there is nothing the primary may count.
    if (!this.planDone || this.busy) return;
    const seq = this.d.ack === 'received' ? this.receivedSeq() : Math.min(this.syncedSeq, this.d.lastSeq());
    this.d.link.send(NodeKind.ACK, {
      from: this.d.nodeId,
      epoch: this.d.epoch(),
      seq,
      syncId: this.syncId,
      plan: this.plan!.plan,
      ...(this.installedSeq >= 0 ? { installed: this.installedSeq } : {}),
      ...(this.incoming !== null ? { snapshotBytes: this.incoming.written } : {}),
      ...(gap ? { gap } : {}),
    });
  }

  /** A piece of the snapshot file: written to the part file in order, acknowledged once written. */
  onSnapshot(h: SnapshotHeader, payload: Uint8Array, now: number): void {
    if (h.syncId === this.syncId) this.lastStreamAt = now;
    const inc = this.incoming;
    if (inc === null || this.busy || !this.planDone || h.syncId !== this.syncId || h.plan !== this.plan!.plan || h.seq !== inc.seq) return;
    if (!inc.accept(h.offset, payload)) {
      // A piece went missing (or this is a repeat): say where the file stands, once per retry interval.
      if (h.offset > inc.expected && this.mayAsk(-inc.expected - 1, now)) void inc.flushed().then(() => this.incoming === inc && this.sendAck(true));
      return;
    }
    const complete = inc.complete;
    void inc.flushed().then(() => {
      if (this.incoming !== inc) return;
      if (!complete) return this.scheduleAck();
      this.install(inc).catch((err: Error) => this.d.fail(err));
    });
  }

  private async install(inc: IncomingSnapshot): Promise<void> {
    const plan = this.plan!;
    const snap = plan.snapshot!;
    this.busy = true;
    try {
      try {
        await inc.verify();
      } catch (err) {
        if (!(err instanceof SnapshotCorruptError)) throw err;
        this.incoming = null;
        await inc.discard();
        return this.d.rejoin(err.message);
      }
      this.incoming = null;
      await this.d.installSnapshot(inc, snap.seq, snap.epoch, snap.history);
      if (this.plan === plan) this.installedSeq = snap.seq;
    } finally {
      this.busy = false;
    }
    this.resendAskedFor = 0;
    this.sendAck();
  }
}
