/**
 * The primary's side of replication (docs/DECISIONS.md). Every frame the primary
 * logs is also kept in a bounded in-memory ring and, once the standby is live, sent in
 * one REPLICATE message per drain. A joining standby first catches up in a sync (one
 * per joiner at a time; a repeated JOIN of the same sync id continues it): the primary
 * tells it where the logs agree (SYNC), the joiner drops what lies beyond, and then
 * gets the tail from the ring or the log, or, when the primary no longer holds that
 * range, the newest snapshot file streamed with a byte window followed by the tail.
 * The tail is windowed too (records and bytes beyond the joiner's ack), so a sync's
 * memory on the primary is bounded whatever the size of the state. A RESEND (the
 * standby saw a gap) rewinds the tail to the seq it names.
 */
import { JournalRangeError, listSegments, newestSnapshotFile, readFrames, type LogStorage, type SnapshotFileInfo } from '@txtest/journal';
import { encodeForwardedReplies, NodeKind, type AckHeader, type ForwardedReply, type JoinHeader, type ResendHeader, type SyncHeader } from '@txtest/protocol';
import { agreedPrefix } from '../epochs/election';
import type { PeerLink } from './peer-link';
import { SnapshotSender } from './snapshot-sender';
import type { Logger } from '../transport';

export interface ReplicatorDeps {
  link: PeerLink;
  nodeId: string;
  epoch(): number;
  lastSeq(): number;
  committedSeq(): number;
  /**
   * This node's own log watermark (written, or synced with `--fsync always`): forwarded
   * replies never reveal more, so this node holds every update its standby answers.
   */
  localMark(): number;
  /** Whether `localMark` follows the log's writes, which land a few microtasks after the turn (not its syncs). */
  localMarkIsWrite: boolean;
  history(): [number, number][];
  storage: LogStorage;
  /** Tells this process's plans from a previous one's. */
  incarnation: string;
  /** Writes a snapshot file now: only for a joiner that needs one when the primary has none. */
  writeSnapshot(): Promise<void>;
  /** The standby acknowledged everything up to seq. */
  onAck(seq: number): void;
  /** The standby has caught up and receives live batches now. */
  onLive(): void;
  /** An error of its own caught on the way out (logged there, at error level); the standby joins or asks again. */
  onError(kind: 'sync-plan-failed' | 'sync-stream-failed', err: Error, msg: string, fields: object): void;
  log: Logger;
  ringBytesMax?: number;
  /** A joiner further behind than this many records gets a snapshot instead of the tail. */
  tailRecordsMax?: number;
  /** Bytes of a sync (snapshot pieces, or tail batches) sent beyond the joiner's ack. */
  windowBytes?: number;
  /** Tail records sent beyond the joiner's ack. */
  windowRecords?: number;
  /** Silence (no progress in the joiner's acks) after which a sync's step is sent again. */
  retryMs: number;
  /** Test-only fault (faults.ts): treat a joiner's divergent suffix as agreed, so it is never truncated. */
  skipRejoinTruncation?: boolean;
}

const CHUNK_BYTES = 512 * 1024;
const PIECE_BYTES = 256 * 1024;

/** One joiner's catch-up. */
interface Sync {
  id: string;
  joiner: string;
  /** planning (finding the agreed point), agreeing (SYNC sent, not yet acknowledged), then the steps. */
  phase: 'planning' | 'agreeing' | 'snapshot' | 'installing' | 'tail' | 'live';
  plan: SyncHeader | null;
  sender: SnapshotSender | null;
  lastProgressAt: number;
  /** Where the tail began: this node's last seq and the joiner's ack then (see catchUpCap). */
  tailFrom: { lastSeq: number; ack: number } | null;
}

/**
 * Records a solo primary may add for every record a joiner takes from its tail. A
 * joiner applies a record for about what the primary spends on one, so a primary that
 * ran freely under full load kept the lag as it was: a standby restarted at a million
 * accounts, two million records behind, never caught up. Half keeps the primary serving
 * and closes the lag at half the joiner's pace.
 */
const CATCH_UP_SHARE = 0.5;

/** Counts for status and metrics: how joins were served. */
export interface SyncCounts {
  /** Syncs started (one per new sync id). */
  started: number;
  /** JOINs that continued a running sync. */
  resumed: number;
  /** Plans that stream a snapshot file. */
  snapshots: number;
  /** Plans in which a divergent joiner truncates and takes the tail. */
  truncations: number;
}

export class Replicator {
  private ring: Uint8Array[] = [];
  private ringHead = 0;
  private ringFirstSeq = 1;
  private ringBytes = 0;
  private batch: Uint8Array[] = [];
  private batchFirstSeq = 0;
  /** Client replies for the standby to publish, each with this node's last seq when it came; sent after the frames. */
  private replies: [number, ForwardedReply][] = [];
  /** Client replies sent to the standby to publish (for status). */
  repliesForwarded = 0;
  /** A flush waits for this node's own log to write what its replies reveal. */
  private awaitingMark = false;
  private flushScheduled = false;
  mode: 'none' | 'catchup' | 'live' = 'none';
  private nextSeq = 0;
  private pumping = false;
  private pumpWanted = false;
  private generation = 0;
  private plans = 0;
  standbyAck = 0;
  private sync: Sync | null = null;
  /** Tail batches sent beyond the standby's ack: [last seq, bytes], oldest first. */
  private inflight: [number, number][] = [];
  private inflightBytes = 0;
  private wake: (() => void) | null = null;
  private now = 0;
  readonly counts: SyncCounts = { started: 0, resumed: 0, snapshots: 0, truncations: 0 };
  private readonly ringBytesMax: number;
  private readonly tailRecordsMax: number;
  private readonly windowBytes: number;
  private readonly windowRecords: number;
  private readonly flushFn = () => this.flush();

  constructor(private readonly d: ReplicatorDeps) {
    this.ringBytesMax = d.ringBytesMax ?? 8 * 1024 * 1024;
    this.tailRecordsMax = d.tailRecordsMax ?? 500_000;
    this.windowBytes = d.windowBytes ?? 4 * 1024 * 1024;
    this.windowRecords = d.windowRecords ?? 50_000;
  }

  /** Where the ring starts when the node begins to write at `nextSeq`. */
  reset(nextSeq: number): void {
    this.ring = [];
    this.ringHead = 0;
    this.ringFirstSeq = nextSeq;
    this.ringBytes = 0;
    this.batch = [];
    this.replies = [];
    this.awaitingMark = false;
    this.stopFollowing();
  }

  stopFollowing(): void {
    this.mode = 'none';
    this.sync?.sender?.stop();
    this.sync = null;
    this.generation++;
    this.standbyAck = 0;
    this.batch = [];
    this.replies = [];
    this.awaitingMark = false;
    this.clearInflight();
    this.wakeUp();
    this.liftCap();
  }

  /**
   * While a joiner takes the tail, the highest seq whose reply may leave: the records
   * the tail began behind, plus CATCH_UP_SHARE of what the joiner has taken since. A
   * closed-loop client waits for its reply before it sends more, so this paces the
   * primary to the joiner and the catch-up converges under any load. Infinity when no
   * tail is running; replies held by it leave when the tail ends (liftCap).
   */
  catchUpCap(): number {
    const t = this.sync?.phase === 'tail' ? this.sync.tailFrom : null;
    return t === null ? Number.POSITIVE_INFINITY : t.lastSeq + Math.floor((this.standbyAck - t.ack) * CATCH_UP_SHARE);
  }

  /** The tail ended (live, replanned, stopped): replies catchUpCap held may leave. */
  private liftCap(): void {
    this.d.onAck(this.standbyAck);
  }

  /**
   * What a running sync still needs from this node's files (compaction keeps it): the
   * snapshot file it streams and the log after it, or the log after the tail's ack.
   */
  pinnedSeq(): number | null {
    const s = this.sync;
    if (s === null || s.phase === 'live') return null;
    if (s.sender !== null && s.phase !== 'tail') return s.sender.file.seq;
    if (s.phase === 'tail') return this.standbyAck;
    return s.plan?.agreed ?? 0;
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
    this.flushSoon();
  }

  /**
   * A client reply for the live standby to publish once it holds everything this node
   * has applied (`--reply-from standby`); false when no standby is live.
   */
  forward(subject: string, body: Uint8Array, json: boolean): boolean {
    if (this.mode !== 'live') return false;
    this.replies.push([this.d.lastSeq(), { subject, body, json }]);
    this.flushSoon();
    return true;
  }

  /** This node's log watermark moved: replies waiting for it may go. */
  onLocalMark(): void {
    if (this.awaitingMark || (this.replies.length > 0 && this.replies[0]![0] <= this.d.localMark())) this.flush();
  }

  private flushSoon(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(this.flushFn);
  }

  private flush(): void {
    this.flushScheduled = false;
    this.awaitingMark = false;
    if ((this.batch.length === 0 && this.replies.length === 0) || this.mode !== 'live') return;
    const replies = this.replies;
    const mark = this.d.localMark();
    let n = 0;
    while (n < replies.length && replies[n]![0] <= mark) n++;
    // The turn's write lands a few microtasks from now: frames and replies wait for it
    // and go as one message. A sync is a disk's wait: the frames go now, the replies after it.
    if (n < replies.length && this.d.localMarkIsWrite) {
      this.awaitingMark = true;
      return;
    }
    const frames = this.batch;
    const firstSeq = frames.length === 0 ? this.d.lastSeq() + 1 : this.batchFirstSeq;
    if (frames.length === 0 && n === 0) return;
    this.batch = [];
    if (n === 0) return this.send(firstSeq, frames, true);
    const section = encodeForwardedReplies(replies.slice(0, n).map((r) => r[1]));
    const upTo = replies[n - 1]![0];
    this.repliesForwarded += n;
    this.replies = n === replies.length ? [] : replies.slice(n);
    this.send(firstSeq, frames, true, { upTo, section });
  }

  onAck(h: AckHeader): void {
    const s = this.sync;
    // Acks of another sync, or sent before the joiner carried out this plan, speak of a log
    // this primary has not agreed with: they count for nothing.
    if (s === null || h.syncId !== s.id || s.plan === null || h.plan !== s.plan.plan) return;
    switch (s.phase) {
      case 'planning':
        return;
      case 'agreeing':
        if (s.sender !== null) {
          s.phase = 'snapshot';
          this.progress(s);
          s.sender.onAck(h.snapshotBytes ?? 0, false);
        } else this.startTail(s, h.seq);
        return;
      case 'snapshot':
        // The ack that reported the last bytes may have been lost: an installed snapshot says it all.
        if (h.installed === s.sender!.file.seq) return this.startTail(s, h.seq);
        if (s.sender!.onAck(h.snapshotBytes ?? 0, h.gap === true)) this.progress(s);
        if (s.sender!.done) {
          s.phase = 'installing';
          this.d.log.info({ standby: s.joiner, seq: s.sender!.file.seq, bytes: s.sender!.file.bytes }, 'snapshot file streamed to the standby; it installs it');
        }
        return;
      case 'installing':
        if (h.installed === s.sender!.file.seq) this.startTail(s, h.seq);
        return;
      case 'tail':
      case 'live':
        return this.onTailAck(s, h.seq);
      default: {
        const never: never = s.phase;
        return never;
      }
    }
  }

  private onTailAck(s: Sync, seq: number): void {
    if (seq <= this.standbyAck) return;
    this.standbyAck = seq;
    this.progress(s);
    while (this.inflight.length > 0 && this.inflight[0]![0] <= seq) this.inflightBytes -= this.inflight.shift()![1];
    this.wakeUp();
    this.d.onAck(seq);
    if (this.ackWaiter !== null && seq >= this.ackWaiter.seq) {
      const w = this.ackWaiter;
      this.ackWaiter = null;
      w.resolve();
    }
  }

  private ackWaiter: { seq: number; resolve: () => void } | null = null;

  /** Resolves once the standby has acknowledged `seq` (one waiter: the handover). */
  whenAcked(seq: number): Promise<void> {
    if (this.standbyAck >= seq) return Promise.resolve();
    return new Promise((resolve) => (this.ackWaiter = { seq, resolve }));
  }

  onResend(h: ResendHeader): void {
    const s = this.sync;
    if (s === null || h.syncId !== s.id || (s.phase !== 'tail' && s.phase !== 'live')) return;
    this.d.log.warn({ fromSeq: h.fromSeq }, 'standby reported a gap: retransmitting');
    this.catchUpFrom(h.fromSeq);
  }

  /**
   * A standby asks to join. The same sync id as the running sync is a repeated JOIN
   * (its stream went quiet for a while): the sync continues from the last acknowledged
   * point. A new id is a new catch-up (the joiner restarted, or left syncing and came
   * back): the old sync stops and a new one is planned.
   */
  onJoin(h: JoinHeader, now: number): void {
    this.now = now;
    const cur = this.sync;
    if (cur !== null && cur.id === h.syncId) {
      this.counts.resumed++;
      // While the joiner's acks progress, the stream is flowing and a repeat changes nothing;
      // a stalled sync sends its current step again from the last acknowledged point.
      const stalled = now - cur.lastProgressAt >= this.d.retryMs;
      this.d.log.info({ standby: h.from, syncId: h.syncId, phase: cur.phase, resent: stalled }, 'standby repeated its JOIN: continuing the running sync');
      if (stalled) {
        cur.lastProgressAt = now;
        this.resume(cur);
      }
      return;
    }
    this.stopFollowing();
    const s: Sync = { id: h.syncId, joiner: h.from, phase: 'planning', plan: null, sender: null, lastProgressAt: now, tailFrom: null };
    this.sync = s;
    this.mode = 'catchup';
    this.counts.started++;
    this.d.log.info({ standby: h.from, syncId: h.syncId, lastSeq: h.lastSeq }, 'sync started');
    this.plan(s, h).catch((err: Error) => this.planFailed(err, s));
  }

  /** Called every heartbeat interval while serving: a sync step that got no answer is sent again. */
  tick(now: number): void {
    this.now = now;
    const s = this.sync;
    if (s === null || now - s.lastProgressAt < this.d.retryMs) return;
    if (s.phase === 'agreeing' || s.phase === 'snapshot' || s.phase === 'tail') {
      s.lastProgressAt = now;
      this.resume(s);
    }
  }

  private resume(s: Sync): void {
    switch (s.phase) {
      case 'agreeing':
        return this.d.link.send(NodeKind.SYNC, s.plan!);
      case 'snapshot':
        return s.sender!.rewind();
      case 'tail':
      case 'live':
        // From the first record not acknowledged: the rest of the window, then the live marker.
        return this.catchUpFrom(this.standbyAck + 1);
      case 'planning':
      case 'installing':
        return;
      default: {
        const never: never = s.phase;
        return never;
      }
    }
  }

  private progress(s: Sync): void {
    s.lastProgressAt = this.now;
  }

  /** Where the logs agree, and whether the joiner can catch up from the log (truncating a divergent tail) or needs the snapshot. */
  private async plan(s: Sync, h: JoinHeader): Promise<void> {
    const mine = { history: this.d.history(), lastSeq: this.d.lastSeq() };
    const agreed = this.d.skipRejoinTruncation ? Math.min(h.lastSeq, mine.lastSeq) : agreedPrefix(mine, h);
    const behind = mine.lastSeq - agreed;
    const divergent = h.lastSeq > agreed;
    if ((!divergent || agreed >= h.floor) && (await this.holds(agreed + 1)) && (await this.tailBeatsSnapshot(h.from, agreed, behind))) {
      if (divergent) {
        this.counts.truncations++;
        this.d.log.warn(
          { standby: h.from, agreed, discarded: `${agreed + 1}..${h.lastSeq}`, records: behind },
          'standby joins with records never confirmed: it truncates them and takes the tail',
        );
      } else this.d.log.info({ standby: h.from, fromSeq: agreed + 1, records: behind }, 'standby joins: sending the tail');
      return this.propose(s, agreed, null);
    }
    if (divergent)
      this.d.log.warn(
        { standby: h.from, agreed, discarded: `${agreed + 1}..${h.lastSeq}`, floor: h.floor },
        'standby joins with records never confirmed that it cannot truncate here: it starts over',
      );
    else this.d.log.info({ standby: h.from, behind }, 'standby joins far behind');
    return this.planSnapshot(s, agreed);
  }

  /**
   * A joiner within `tailRecordsMax` takes the tail. One further behind takes the
   * snapshot only when it spares more than that many records: a snapshot older than the
   * joiner's own state would make it replay more than the tail it stands in for (a
   * restarted standby at a million assets then never caught up under load).
   */
  private async tailBeatsSnapshot(joiner: string, agreed: number, behind: number): Promise<boolean> {
    if (behind <= this.tailRecordsMax) return true;
    const file = await newestSnapshotFile(this.d.storage);
    const spared = file === null ? 0 : file.seq - agreed;
    if (spared > this.tailRecordsMax) return false;
    this.d.log.info(
      { standby: joiner, behind, snapshotSeq: file?.seq ?? null, spared: Math.max(0, spared) },
      'standby joins far behind, but the newest snapshot would spare it too few records: sending the tail',
    );
    return true;
  }

  /** The newest snapshot file, then the tail after it; with no file and the log from seq 1, the tail alone. */
  private async planSnapshot(s: Sync, agreed: number): Promise<void> {
    let file = await newestSnapshotFile(this.d.storage);
    if (file === null && (await this.holds(1))) {
      if (this.sync !== s) return;
      this.d.log.info({ standby: s.joiner }, 'no snapshot file: the standby starts over from seq 1 with the tail');
      return this.propose(s, 0, null);
    }
    if (file === null) {
      await this.d.writeSnapshot();
      file = await newestSnapshotFile(this.d.storage);
      if (file === null) throw new Error('no snapshot file to stream even after writing one');
    }
    if (this.sync !== s) return;
    this.counts.snapshots++;
    this.d.log.info({ standby: s.joiner, seq: file.seq, bytes: file.bytes }, 'streaming the newest snapshot file, then the tail');
    this.propose(s, agreed, file);
  }

  private propose(s: Sync, agreed: number, file: SnapshotFileInfo | null): void {
    if (this.sync !== s) return;
    const plan = `${this.d.incarnation}.${++this.plans}`;
    s.plan = {
      from: this.d.nodeId,
      epoch: this.d.epoch(),
      syncId: s.id,
      plan,
      agreed,
      snapshot:
        file === null ? null : { seq: file.seq, epoch: file.epoch, bytes: file.bytes, history: this.d.history().filter(([, first]) => first <= file.seq) },
    };
    s.sender?.stop();
    s.sender =
      file === null
        ? null
        : new SnapshotSender(
            {
              link: this.d.link,
              storage: this.d.storage,
              header: () => ({ from: this.d.nodeId, epoch: this.d.epoch(), syncId: s.id, plan }),
              onLost: (why) => this.replan(s, why),
              pieceBytes: PIECE_BYTES,
              windowBytes: this.windowBytes,
            },
            file,
          );
    s.phase = 'agreeing';
    this.progress(s);
    this.d.link.send(NodeKind.SYNC, s.plan);
  }

  /** The sync cannot go on as planned (its snapshot file vanished, the tail is gone): plan it again on a snapshot. */
  private replan(s: Sync, why: string): void {
    if (this.sync !== s) return;
    this.d.log.warn({ standby: s.joiner, syncId: s.id, why }, 'sync restarts from the newest snapshot file');
    s.phase = 'planning';
    s.sender?.stop();
    this.liftCap();
    this.generation++;
    this.clearInflight();
    this.wakeUp();
    this.planSnapshot(s, s.plan?.agreed ?? 0).catch((err: Error) => this.planFailed(err, s));
  }

  /** Whether record `seq` can be sent from the ring or the log (seq = lastSeq + 1: nothing to send). */
  private async holds(seq: number): Promise<boolean> {
    if (seq > this.d.lastSeq()) return true;
    if (seq >= this.ringFirstSeq) return true;
    const segs = listSegments(await this.d.storage.list());
    return segs.length > 0 && segs[0]!.seq <= seq;
  }

  /** The joiner holds [1, heldSeq] as this primary does (the plan is carried out): that is its first ack. */
  private startTail(s: Sync, heldSeq: number): void {
    s.phase = 'tail';
    s.tailFrom = { lastSeq: this.d.lastSeq(), ack: Math.max(heldSeq, this.standbyAck) };
    this.progress(s);
    this.onTailAck(s, heldSeq);
    this.catchUpFrom(Math.max(heldSeq, this.standbyAck) + 1);
  }

  private catchUpFrom(seq: number): void {
    if (this.sync?.phase === 'live') {
      this.sync.phase = 'tail';
      this.sync.tailFrom = { lastSeq: this.d.lastSeq(), ack: this.standbyAck };
    }
    this.mode = 'catchup';
    this.generation++;
    this.batch = [];
    this.nextSeq = seq;
    this.clearInflight();
    this.wakeUp();
    void this.pump(this.generation);
  }

  private clearInflight(): void {
    this.inflight = [];
    this.inflightBytes = 0;
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Resolves on the next ack, rewind or stop. */
  private waitForAck(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  /**
   * Sends [nextSeq, lastSeq] from the ring or the log, at most a window beyond the
   * standby's ack, then goes live. One loop at a time: a restart while it waits (a
   * rewind, a resend) is picked up when it returns.
   */
  private planFailed(err: Error, s: Sync): void {
    this.d.onError('sync-plan-failed', err, 'planning the sync failed; the standby will join again', { syncId: s.id });
  }

  private async pump(gen: number): Promise<void> {
    if (this.pumping) {
      this.pumpWanted = true;
      return;
    }
    this.pumping = true;
    try {
      await this.pumpLoop(gen);
    } catch (err) {
      this.d.onError('sync-stream-failed', err instanceof Error ? err : new Error(String(err)), 'the catch-up stream failed; the standby will ask again', {});
    } finally {
      this.pumping = false;
      if (this.pumpWanted) {
        this.pumpWanted = false;
        if (this.mode === 'catchup') void this.pump(this.generation);
      }
    }
  }

  private async pumpLoop(gen: number): Promise<void> {
    while (gen === this.generation) {
      const last = this.d.lastSeq();
      if (this.nextSeq > last) {
        this.mode = 'live';
        if (this.sync !== null) this.sync.phase = 'live';
        this.liftCap();
        // An empty live batch tells the standby it has everything, even when nothing was missing.
        this.send(this.nextSeq, [], true);
        this.d.onLive();
        return;
      }
      if (this.nextSeq - 1 - this.standbyAck >= this.windowRecords || this.inflightBytes >= this.windowBytes) {
        await this.waitForAck();
        continue;
      }
      const first = this.nextSeq;
      let frames: Uint8Array[] = [];
      if (first >= this.ringFirstSeq) {
        // From memory when the ring still holds it (synchronous: nothing slips in between).
        let bytes = 0;
        const end = Math.min(last, first - 1 + this.windowRecords);
        for (let seq = first; seq <= end && bytes < CHUNK_BYTES; seq++) {
          const f = this.ring[this.ringHead + (seq - this.ringFirstSeq)];
          if (f === undefined) break;
          frames.push(f);
          bytes += f.length;
        }
      }
      if (frames.length === 0) {
        try {
          frames = await readFrames(this.d.storage, first, CHUNK_BYTES);
        } catch (err) {
          if (!(err instanceof JournalRangeError)) throw err;
          frames = [];
        }
        if (gen !== this.generation) return;
        if (frames.length === 0) {
          // Neither in the ring nor in the log any more: only a snapshot can bridge it.
          if (this.sync !== null) this.replan(this.sync, `records from seq ${first} are no longer in the log`);
          return;
        }
        this.d.log.info({ fromSeq: first, records: frames.length }, 'resending from the log (no longer in memory)');
      }
      let bytes = 0;
      for (const f of frames) bytes += f.length;
      this.send(first, frames, false);
      this.nextSeq = first + frames.length;
      this.inflight.push([this.nextSeq - 1, bytes]);
      this.inflightBytes += bytes;
    }
  }

  /** One REPLICATE; `replies`, forwarded client replies, go after the frames. */
  private send(firstSeq: number, frames: Uint8Array[], live: boolean, replies?: { upTo: number; section: Uint8Array }): void {
    let repliesAt = 0;
    if (replies !== undefined) for (const f of frames) repliesAt += f.length;
    this.d.link.send(
      NodeKind.REPLICATE,
      {
        from: this.d.nodeId,
        epoch: this.d.epoch(),
        syncId: this.sync?.id ?? '',
        firstSeq,
        count: frames.length,
        committedSeq: this.d.committedSeq(),
        live,
        ...(replies === undefined ? {} : { repliesAt, upTo: replies.upTo }),
      },
      replies === undefined ? frames : [...frames, replies.section],
    );
  }
}
