/**
 * Client-facing messages (PROTOCOL.md sections 3-6). Bodies travel as MessagePack
 * plain maps, or JSON when the request carries `Content-Type: application/json`.
 */
import type { ErrorBody, ErrorReply } from './errors';

export type Args = Record<string, unknown>;

/** One update, as validated at the edge. */
export interface UpdateRequest {
  id: string;
  asset: string;
  op: string;
  args?: Args;
  model?: string;
}

export interface UpdateOk {
  id: string;
  ok: true;
  asset: string;
  version: number;
  seq: number;
  epoch: number;
  result: unknown;
}

/** A business refusal: processed, logged and deduplicated, state unchanged. */
export interface UpdateRejected {
  id: string;
  ok: false;
  error: ErrorBody;
  asset: string;
  version: number;
  seq: number;
  epoch: number;
}

export type UpdateReply = UpdateOk | UpdateRejected | ErrorReply;

export interface BatchRequest {
  batch: unknown[];
}

export interface BatchReply {
  batch: UpdateReply[];
}

export interface QueryRequest {
  asset: string;
}

export type QueryReply = { ok: true; asset: string; model: string; version: number; state: unknown; seq: number } | ErrorReply;

export interface PeerStatus {
  nodeId: string;
  connected: boolean;
  role?: string;
  lastSeq?: number;
}

export interface NodeStatus {
  nodeId: string;
  pid: number;
  http: string;
  /** Which shard the node's pair owns, of how many (section 12; 0 of 1 unsharded). */
  shard?: number;
  shards?: number;
  role: string;
  epoch: number;
  lastSeq: number;
  committedSeq: number;
  peer: PeerStatus | null;
  digest?: string;
  appliedSeq?: number;
  /** Present while the node waits in negotiation and will not serve on its own: why, and what is missing. */
  waiting?: NodeWaiting;
  [extra: string]: unknown;
}

/** Why a negotiating node does not serve (section 5). */
export interface NodeWaiting {
  /** The sentence the node also logs: what it waits for and how an operator can go on. */
  reason: string;
  /** Epochs whose records from `fromSeq` on are in no log the pair holds: they may have been acknowledged. */
  missing: { epoch: number; primary: string; fromSeq: number }[];
  /** The node an operator would pass --force-primary to, when the pair refuses to serve. */
  force?: string;
}

/** Published on `P.C.events.<asset>` once an update commits. */
export interface UpdateEvent {
  asset: string;
  version: number;
  seq: number;
  epoch: number;
  op: string;
  result: unknown;
  [modelSpecific: string]: unknown;
}
