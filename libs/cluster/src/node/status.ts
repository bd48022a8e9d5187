/**
 * What a node says about itself: the status (its status subject, tests, the simulator)
 * and the stats (metrics, the live page). Both read what the parts already keep.
 */
import type { Processor, RoleState } from '@txtest/actors';
import { decodeBody, encodeBody, type NodeStatus } from '@txtest/protocol';
import type { EpochKeeper } from '../epochs/epoch-keeper';
import type { LogWiring } from '../log/log-wiring';
import type { Snapshotter } from '../log/snapshotter';
import type { ClientDoor } from '../serving/client-door';
import type { PairSession } from '../pair/pair-session';
import type { NodeStats } from './node-stats';
import type { ResolvedOptions } from './options';
import type { SwitchoverAuth, SwitchoverReply } from './switchover';
import { publishInEncoding } from '../transport';

/** The parts of a node that status and stats read. */
export interface NodeView {
  o: ResolvedOptions;
  role: RoleState;
  processor: Processor;
  epochs: EpochKeeper;
  wiring: LogWiring;
  pair: PairSession | null;
  promotions: number;
  failed: Error | null;
  door: ClientDoor;
  snapshotter: Snapshotter;
}

/** A follower reports what it holds contiguously; a primary its gate's watermark. */
function committedSeqOf(v: NodeView): number {
  return v.role === 'standby' || v.role === 'syncing' ? v.processor.lastSeq : v.processor.committedSeq;
}

/** The status; with `digest`, computed in one go (tests and the simulator; serving nodes use a sliced digest). */
export function statusOf(v: NodeView, digest: boolean): NodeStatus {
  const { o, processor: p, pair } = v;
  const s: NodeStatus = {
    nodeId: o.nodeId,
    ...o.statusExtras(),
    shard: o.shard.index,
    shards: o.shard.count,
    role: v.role,
    epoch: v.epochs.epoch,
    lastSeq: p.lastSeq,
    committedSeq: committedSeqOf(v),
    peer:
      pair === null
        ? null
        : {
            nodeId: pair.link.peerId,
            connected: o.clock.now() - pair.dispatch.lastPeerAt < pair.peerTimeoutMs,
            ...(pair.dispatch.peer ? { role: pair.dispatch.peer.role, lastSeq: pair.dispatch.peer.lastSeq } : {}),
          },
  };
  const waiting = pair?.negotiation.waiting ?? null;
  if (waiting !== null && v.role === 'negotiating') s.waiting = waiting;
  if (digest) Object.assign(s, p.digest());
  return s;
}

/** Counters and gauges for metrics and the live page (node-stats.ts); cheap, read on demand. */
export function statsOf(v: NodeView): NodeStats {
  const { o, processor: p, pair } = v;
  const lastPeerAt = pair?.dispatch.lastPeerAt ?? Number.NEGATIVE_INFINITY;
  return {
    role: v.role,
    epoch: v.epochs.epoch,
    lastSeq: p.lastSeq,
    committedSeq: committedSeqOf(v),
    writtenSeq: v.wiring.writtenSeq,
    syncedSeq: v.wiring.syncedSeq,
    standbyAckSeq: pair?.replicator.mode === 'live' ? pair.replicator.standbyAck : null,
    peerLastSeq: pair?.dispatch.peer?.lastSeq ?? null,
    peerSilenceMs: lastPeerAt === Number.NEGATIVE_INFINITY ? null : o.clock.now() - lastPeerAt,
    heartbeatIntervalMs: o.heartbeatIntervalMs,
    heartbeatMissed: o.heartbeatMissed,
    inflight: p.inflightCount,
    mailboxDepthMax: p.mailboxDepthMax(),
    assets: p.assetCount,
    dedupeIds: p.dedupeSize,
    promotions: v.promotions,
    syncs: pair === null ? null : { ...pair.replicator.counts },
    chainReplies: pair === null ? null : { forwarded: pair.replicator.repliesForwarded, published: pair.follower.repliesPublished },
    nodeMessagesRejected: pair === null ? null : { ...pair.link.rejected },
    failed: v.failed !== null,
    beatLateMaxMs: pair === null ? null : pair.heartbeat.lateMaxMs(),
    errors: { ...v.door.errors },
    snapshot: { seq: v.snapshotter.lastSnapshotSeq, writtenAtMs: v.snapshotter.lastWrittenAt, writeMs: v.snapshotter.lastWriteMs },
  };
}

/**
 * Answers a status request (JSON or msgpack, as asked): the status, with the digest when
 * the body asks `{ digest: true }`; `{ switchover: true, ... }` asks a primary to hand
 * over (switchover.ts) and is answered with the outcome.
 */
export function answerStatus(
  o: ResolvedOptions,
  request: { data: Uint8Array; reply: string; json: boolean },
  status: () => NodeStatus,
  withDigest: () => Promise<NodeStatus>,
  switchover: (body: Partial<SwitchoverAuth>) => Promise<SwitchoverReply>,
): void {
  const { data, reply, json } = request;
  if (reply === '') return;
  const d = decodeBody(data, json ? 'json' : 'msgpack');
  const body = (d.ok && typeof d.value === 'object' && d.value !== null ? d.value : {}) as { digest?: unknown; switchover?: unknown };
  const send = (s: unknown) => publishInEncoding(o.transport, reply, encodeBody(s, json ? 'json' : 'msgpack'), json);
  if (body.switchover === true) {
    switchover(body as Partial<SwitchoverAuth>).then(send, (err: Error) => send({ ok: false, error: err.message }));
    return;
  }
  if (body.digest !== true) return send(status());
  withDigest().then(send, (err: Error) => o.log.warn({ err: err.message }, 'status digest abandoned'));
}

/**
 * The roll call (`P.C.status`, docs/PROTOCOL.md section 5): every node of the cluster,
 * of every shard, answers with its plain status, so tools find the whole cluster
 * without knowing its node ids. Nothing else (a digest, a switchover) is taken there.
 */
export function answerRollCall(o: ResolvedOptions, reply: string, json: boolean, status: () => NodeStatus): void {
  if (reply !== '') publishInEncoding(o.transport, reply, encodeBody(status(), json ? 'json' : 'msgpack'), json);
}
