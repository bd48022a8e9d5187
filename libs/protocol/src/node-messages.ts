/**
 * Node-to-node messages on `P.C._node.<nodeId>` (replication, acks, heartbeats, sync).
 * Never client traffic. One layout for all of them, so the receiver has one switch:
 *
 *   +------+----------------+------------------------+---------------------------+
 *   | kind | headerLen u32BE | header (MessagePack map) | payload (kind-specific)  |
 *   | u8   |                 |  always has from, epoch  | REPLICATE: journal frames |
 *   +------+----------------+------------------------+  SNAPSHOT: snapshot file  |
 *                                                       bytes at an offset       |
 *                                                       others: empty            |
 *                                                     +---------------------------+
 *
 * Every message carries the sender's epoch: a receiver refuses a lower one and steps
 * down on a higher one (docs/PAIR.md rule 2). With a cluster key the kind byte's high
 * bit is set and a trailer (sessions, counter, MAC) follows the payload: see
 * libs/cluster peer-auth.ts and docs/SECURITY.md. REPLICATE's payload is the very bytes
 * the primary wrote to its own log, so the standby appends them unchanged.
 *
 * The layout's version: a header may carry `v` (HELLO, HEARTBEAT and JOIN always do);
 * absent means 1. A receiver drops a message of a version it does not speak, naming it,
 * so two builds that cannot understand each other never act on each other's bytes.
 */
import { packMsgpack, unpackMsgpack } from './codec';

export const NodeKind = {
  HELLO: 1,
  HEARTBEAT: 2,
  REPLICATE: 3,
  ACK: 4,
  RESEND: 5,
  JOIN: 6,
  SNAPSHOT: 7,
  /** A primary leaving cleanly (SIGTERM) after its standby acknowledged everything. */
  HANDOVER: 8,
  /** The primary's answer to a JOIN: where the logs agree, and how the joiner catches up. */
  SYNC: 9,
} as const;
export type NodeKind = (typeof NodeKind)[keyof typeof NodeKind];

/** The node-message layout this build speaks (see the module comment). */
export const NODE_FORMAT_VERSION = 1;

/** What a node tells its peer about itself in HELLO, HEARTBEAT and JOIN. */
export interface NodeSummary {
  from: string;
  /** The epoch the sender is in (its persisted epoch record). */
  epoch: number;
  role: string;
  /** The primary of the sender's latest epoch ('' if none). */
  primary: string;
  /** The role the sender held in that epoch. */
  recordRole: string;
  lastSeq: number;
  /** A primary: the standby's acknowledged watermark; a standby: what it received contiguously. */
  ackSeq: number;
  /** [epoch, firstSeq] pairs: where each epoch began in the sender's log. */
  history: [number, number][];
  /** The arbiter's epoch when the sender's epoch record began empty (absent from older nodes). */
  since?: number;
  /** The sender's node-message format (NODE_FORMAT_VERSION; absent from older nodes: 1). */
  v?: number;
  /** The highest arbiter epoch the sender had read or won (with an arbiter; absent from older nodes). */
  arb?: number;
}

/**
 * JOIN: a joiner's summary plus what tells a repeated JOIN from a new joiner. Every
 * catch-up attempt of a joiner has its own `syncId` (its process incarnation and a
 * counter): the primary continues the sync of a JOIN it already serves and starts over
 * only for a new id.
 */
export interface JoinHeader extends NodeSummary {
  syncId: string;
  /** The lowest seq the joiner can roll its state back to (its oldest snapshot with the log after it; 0 if its log starts at 1). */
  floor: number;
}

/**
 * SYNC: the primary's plan for one sync, sent until the joiner acknowledges it (an ACK
 * carrying its syncId). The joiner drops every record after `agreed` (they were never
 * confirmed: an ok needed the other node's ack). With `snapshot` null the tail from
 * agreed + 1 follows; otherwise the snapshot file streams first (SNAPSHOT pieces,
 * acknowledged by bytes), then the tail from its seq + 1.
 */
export interface SyncHeader {
  from: string;
  epoch: number;
  syncId: string;
  /**
   * Names the plan, unique across the primary's restarts (its incarnation and a counter): a
   * sync whose snapshot file vanished is planned again, and a restarted primary plans anew.
   */
  plan: string;
  agreed: number;
  snapshot: {
    seq: number;
    epoch: number;
    /** Size of the snapshot file (header included). */
    bytes: number;
    /** The epoch history of the primary up to the snapshot, for the joiner's epoch record. */
    history: [number, number][];
  } | null;
}

export interface ReplicateHeader {
  from: string;
  epoch: number;
  /** The sync these frames belong to: a joiner takes frames only of the sync it agreed to. */
  syncId: string;
  firstSeq: number;
  count: number;
  /** The primary's commit watermark when it sent this, so the standby knows what is confirmed. */
  committedSeq: number;
  /** True once the standby has caught up: these are the primary's live batches. */
  live: boolean;
  /**
   * Where client replies begin in the payload, after the frames (`--reply-from
   * standby`, libs/protocol forwarded-replies.ts); absent when there are none.
   */
  repliesAt?: number;
  /** The primary's last seq when it forwarded them: the standby publishes them once its log has written it. */
  upTo?: number;
}

export interface AckHeader {
  from: string;
  epoch: number;
  seq: number;
  /** The sync (and its plan) whose SYNC the sender has carried out; acks without it, or of another, count for nothing. */
  syncId?: string;
  plan?: string;
  /** The seq of the snapshot the standby installed in this sync, if any. */
  installed?: number;
  /** While a snapshot streams: bytes of the file received (and written) contiguously. */
  snapshotBytes?: number;
  /** The piece after `snapshotBytes` was missing: resend from there. */
  gap?: boolean;
}

export interface ResendHeader {
  from: string;
  epoch: number;
  syncId: string;
  fromSeq: number;
}

export interface SnapshotHeader {
  from: string;
  epoch: number;
  syncId: string;
  plan: string;
  /** The seq the snapshot reflects (it names the file being streamed). */
  seq: number;
  /** Where the payload sits in the snapshot file. */
  offset: number;
}

export type NodeMessage =
  | { kind: typeof NodeKind.HELLO; header: NodeSummary; payload: Uint8Array }
  | { kind: typeof NodeKind.HEARTBEAT; header: NodeSummary; payload: Uint8Array }
  | { kind: typeof NodeKind.JOIN; header: JoinHeader; payload: Uint8Array }
  | { kind: typeof NodeKind.REPLICATE; header: ReplicateHeader; payload: Uint8Array }
  | { kind: typeof NodeKind.ACK; header: AckHeader; payload: Uint8Array }
  | { kind: typeof NodeKind.RESEND; header: ResendHeader; payload: Uint8Array }
  | { kind: typeof NodeKind.SNAPSHOT; header: SnapshotHeader; payload: Uint8Array }
  | { kind: typeof NodeKind.HANDOVER; header: { from: string; epoch: number; lastSeq: number }; payload: Uint8Array }
  | { kind: typeof NodeKind.SYNC; header: SyncHeader; payload: Uint8Array };

/** `reserve` bytes are left zero at the end, for the authentication trailer (libs/cluster peer-auth.ts). */
export function encodeNodeMessage(kind: NodeKind, header: object, payload: readonly Uint8Array[] = [], reserve = 0): Uint8Array {
  const h = packMsgpack(header);
  let size = 5 + h.length + reserve;
  for (const p of payload) size += p.length;
  const out = new Uint8Array(size);
  out[0] = kind;
  out[1] = (h.length >>> 24) & 0xff;
  out[2] = (h.length >>> 16) & 0xff;
  out[3] = (h.length >>> 8) & 0xff;
  out[4] = h.length & 0xff;
  out.set(h, 5);
  let at = 5 + h.length;
  for (const p of payload) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const KINDS = new Set<number>(Object.values(NodeKind));

/** Decodes a node message; returns a sentence instead of throwing on anything malformed. */
export function decodeNodeMessage(bytes: Uint8Array): NodeMessage | string {
  if (bytes.length < 5) return `node message of ${bytes.length} bytes is too short`;
  // The high bit marks an authenticated message, whose trailer the receiver has already checked and cut off.
  const kind = bytes[0]! & 0x7f;
  if (!KINDS.has(kind)) return `unknown node message kind ${kind}`;
  const len = ((bytes[1]! << 24) >>> 0) + ((bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!);
  if (5 + len > bytes.length) return `node message header of ${len} bytes overruns the message`;
  let header: unknown;
  try {
    header = unpackMsgpack(bytes.subarray(5, 5 + len));
  } catch (err) {
    return `node message header is not MessagePack: ${(err as Error).message}`;
  }
  if (typeof header !== 'object' || header === null) return 'node message header is not a map';
  const h = header as { from?: unknown; epoch?: unknown; v?: unknown };
  if (h.v !== undefined && h.v !== NODE_FORMAT_VERSION) return `node message in format ${JSON.stringify(h.v)}; this build speaks format ${NODE_FORMAT_VERSION}`;
  if (typeof h.from !== 'string' || !Number.isSafeInteger(h.epoch)) return 'node message header lacks from or epoch';
  return { kind, header, payload: bytes.subarray(5 + len) } as NodeMessage;
}
