/**
 * A TxTest node's core, sans-IO: recovery (snapshot + log replay), the epoch record,
 * the processor with its reply gate, the log writer with its fsync policy, background
 * snapshots, and the client, query and status subjects. The app supplies the adapters
 * (NATS transport, file storage, clock, logger) and the HTTP side.
 *
 * This is the standalone node (`solo`): the gate opens on the local log. The pair
 * (replication, heartbeats, failover) builds on the same parts.
 */
import {
  Processor,
  decodeSnapshot,
  writeEventOf,
  encodeSnapshot,
  type Clock,
  type Defer,
  type DedupeLimits,
  type ProcessorLimits,
} from '@txtest/actors';
import type { Model } from '@txtest/models';
import {
  compact,
  FRAME_OVERHEAD_BYTES,
  LogWriter,
  sealFrame,
  recover,
  writeSnapshot,
  type LogStorage,
} from '@txtest/journal';
import { decodeBody, encodeBody, MsgWriter, writeRecord, type NodeStatus, type Subjects } from '@txtest/protocol';
import { ClientDoor } from './client-door';
import { describeFsync, SyncPolicy, type FsyncPolicy } from './durability';
import { EMPTY_EPOCH_RECORD, openEpoch, type EpochRecord, type EpochStorage } from './epoch-store';
import type { Logger, Subscription, Transport } from './transport';

export interface TxNodeOptions {
  nodeId: string;
  subjects: Subjects;
  transport: Transport;
  clock: Clock;
  defer: Defer;
  logStorage: LogStorage;
  epochStorage: EpochStorage;
  log: Logger;
  getModel: (name: string) => Model | undefined;
  fsync: FsyncPolicy;
  bodyBytesMax: number;
  limits?: Partial<ProcessorLimits>;
  dedupe?: DedupeLimits;
  /** Publish committed updates on P.C.events.<asset> (default true). */
  events?: boolean;
  /** Records between background snapshots; 0 turns them off. */
  snapshotEveryRecords: number;
  segmentBytesMax: number;
  repairLog: boolean;
  /** Fields the app adds to status (pid, http address). */
  statusExtras: () => { pid: number; http: string };
}

export class TxNode {
  role = 'starting';
  readonly processor: Processor;
  private writer: LogWriter | null = null;
  private sync: SyncPolicy | null = null;
  private epochRecord: EpochRecord = EMPTY_EPOCH_RECORD;
  private readonly subs: Subscription[] = [];
  private readonly door: ClientDoor;
  /** One writer for records and events: both are written and taken within one call. */
  private readonly w = new MsgWriter();
  private snapshotting = false;
  private lastSnapshotSeq = 0;
  private writtenSeq = 0;
  /** Set when the log failed: the node stops taking updates rather than ack unlogged ones. */
  failed: Error | null = null;

  constructor(private readonly o: TxNodeOptions) {
    this.processor = new Processor({
      clock: o.clock,
      defer: o.defer,
      getModel: o.getModel,
      limits: o.limits ?? {},
      ...(o.dedupe ? { dedupe: o.dedupe } : {}),
      onRecord: (epoch, seq, ts, req, model) => {
        // The record is written straight into its frame: one buffer, no copy.
        const w = this.w;
        w.reserve(FRAME_OVERHEAD_BYTES);
        writeRecord(w, ts, req.id, req.asset, model, req.op, req.args);
        this.writer!.append(sealFrame(w.take(), epoch, seq));
      },
      onEvent:
        o.events === false
          ? () => undefined
          : (e) => {
              writeEventOf(this.w, e);
              o.transport.publish(this.eventSubject(e.asset), this.w.take());
            },
    });
    this.door = new ClientDoor(this.processor, o.transport, o.bodyBytesMax);
  }

  /** Event subjects by asset, built once per asset rather than once per update. */
  private readonly eventSubjects = new Map<string, string>();

  private eventSubject(asset: string): string {
    let s = this.eventSubjects.get(asset);
    if (s === undefined) {
      s = this.o.subjects.events(asset);
      this.eventSubjects.set(asset, s);
    }
    return s;
  }

  private setRole(to: string, reason: string): void {
    const from = this.role;
    this.role = to;
    this.o.log.info({ from, to, epoch: this.processor.epoch, reason }, `${from} -> ${to}`);
  }

  async start(): Promise<void> {
    const { o } = this;
    // Status answers from the first moment, whatever the role.
    this.subs.push(o.transport.subscribe(o.subjects.status(o.nodeId), (data, reply, json) => this.onStatus(data, reply, json)));
    this.setRole('recovering', 'process start');
    const t0 = o.clock.now();
    const rec = await recover(o.logStorage, { repair: o.repairLog, warn: (msg) => o.log.warn({}, msg) });
    if (rec.snapshot !== null) this.processor.loadSnapshot(decodeSnapshot(rec.snapshot.body));
    this.lastSnapshotSeq = rec.snapshot?.seq ?? 0;
    const replayed = await rec.replay(this.processor.lastSeq + 1, (epoch, seq, payload) => this.processor.applyRecord(epoch, seq, payload));
    o.log.info(
      { snapshotSeq: this.lastSnapshotSeq, replayed, lastSeq: this.processor.lastSeq, assets: this.processor.assetCount, ms: o.clock.now() - t0 },
      'recovered from the log',
    );
    this.writtenSeq = this.processor.lastSeq;
    this.writer = new LogWriter({
      storage: o.logStorage,
      lastSeq: this.processor.lastSeq,
      lastEpoch: rec.lastEpoch,
      segmentBytesMax: o.segmentBytesMax,
      // The group is written right after the turns that filled it (a microtask after the
      // drain), not one event-loop iteration later: the turns of a drain are the group.
      defer: queueMicrotask,
      onWritten: (seq) => {
        this.writtenSeq = seq;
        this.sync!.onWritten(seq);
        this.maybeSnapshot();
      },
      onError: (err) => this.fail(err),
    });
    this.sync = new SyncPolicy(o.fsync, this.writer, o.clock, (seq) => this.processor.release(seq), (err) => this.fail(err));

    const stored = (await o.epochStorage.load()) ?? EMPTY_EPOCH_RECORD;
    const epoch = Math.max(stored.epoch, rec.lastEpoch, this.processor.epoch) + 1;
    this.epochRecord = openEpoch(stored, epoch, o.nodeId, 'solo', this.processor.lastSeq + 1);
    await o.epochStorage.save(this.epochRecord);
    this.processor.epoch = epoch;
    this.processor.accepting = true;
    // A queue group keeps a stray second subscriber from doubling work; the epoch rules keep it from acking.
    this.subs.push(o.transport.subscribe(o.subjects.tx, this.door.onTx, { queue: 'txtest' }));
    this.subs.push(o.transport.subscribe(o.subjects.query, this.door.onQuery, { queue: 'txtest' }));
    await o.transport.flush();
    this.setRole('solo', `standalone, fsync ${describeFsync(o.fsync)}`);
  }

  private fail(err: unknown): void {
    if (this.failed !== null) return;
    this.failed = err instanceof Error ? err : new Error(String(err));
    this.processor.accepting = false;
    this.o.log.error({ err: this.failed.message }, 'the log failed: no further updates are taken (replies already sent stay valid)');
  }

  /** Starts a background snapshot once enough records have been written since the last one. */
  private maybeSnapshot(): void {
    const every = this.o.snapshotEveryRecords;
    if (every === 0 || this.snapshotting) return;
    // The snapshot's seq must be in the log already, or a crash could leave a gap between them.
    if (this.processor.committedSeq - this.lastSnapshotSeq < every || this.processor.committedSeq > this.writtenSeq) return;
    this.snapshotting = true;
    this.snapshot().then(
      () => (this.snapshotting = false),
      (err) => {
        this.snapshotting = false;
        this.o.log.error({ err: (err as Error).message }, 'snapshot failed; the log still holds everything');
      },
    );
  }

  async snapshot(): Promise<number> {
    const { o } = this;
    const t0 = o.clock.now();
    const image = this.processor.captureSnapshot();
    // A timer, not a microtask: client traffic must get the event loop between chunks.
    const pause = () => new Promise<void>((resolve) => o.clock.setTimeout(resolve, 0));
    const chunks = await encodeSnapshot(image, pause);
    await writeSnapshot(o.logStorage, { seq: image.seq, epoch: image.epoch, chunks });
    this.lastSnapshotSeq = image.seq;
    await compact(o.logStorage, image.seq);
    o.log.info({ seq: image.seq, assets: image.assets.length, dedupe: image.dedupe.length, ms: o.clock.now() - t0 }, 'snapshot written');
    return image.seq;
  }

  status(digest: boolean): NodeStatus {
    const p = this.processor;
    const s: NodeStatus = {
      nodeId: this.o.nodeId,
      ...this.o.statusExtras(),
      role: this.role,
      epoch: p.epoch,
      lastSeq: p.lastSeq,
      committedSeq: p.committedSeq,
      peer: null,
    };
    if (digest) Object.assign(s, p.digest());
    return s;
  }

  private onStatus(data: Uint8Array, reply: string, json: boolean): void {
    if (reply === '') return;
    const d = decodeBody(data, json ? 'json' : 'msgpack');
    const wantDigest = d.ok && typeof d.value === 'object' && d.value !== null && (d.value as { digest?: unknown }).digest === true;
    this.o.transport.publish(reply, encodeBody(this.status(wantDigest), json ? 'json' : 'msgpack'), json ? { json } : undefined);
  }

  /** Stops taking updates, lets every pending reply out once logged, and closes the log. */
  async stop(): Promise<void> {
    this.setRole('stopping', 'shutdown requested');
    for (const s of this.subs.splice(0)) s.unsubscribe();
    this.processor.accepting = false;
    // Updates admitted before this point still get their turn (deferred), then the log settles.
    await new Promise<void>((resolve) => this.o.defer(resolve));
    const writer = this.writer;
    if (writer !== null) {
      await writer.idle();
      await writer.sync();
      this.processor.release(this.writtenSeq);
      this.sync?.stop();
      await writer.close();
    }
    await this.o.transport.flush();
  }
}
