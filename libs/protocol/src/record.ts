/**
 * The committed update record: what the primary writes to its log and streams to the
 * standby for every update that got a `seq`. The journal frame around it carries
 * `(epoch, seq)`; the payload below carries the rest. Replaying the records through
 * the same pure models reproduces every reply field for field, so replies themselves
 * are never stored.
 *
 *   payload = MessagePack array
 *   +------+----+----+-------+-------+----+-------------+
 *   | kind | ts | id | asset | model | op | args | nil  |
 *   +------+----+----+-------+-------+----+-------------+
 *   kind: 1 = update. ts: the primary's clock (ms) at the actor's turn, which keeps
 *   dedupe-retention decisions identical on every node and in every replay.
 */
import { packMsgpack, releaseMsgpackBuffer } from './codec';
import { MsgReader } from './msg-reader';
import type { MsgWriter } from './msg-writer';
import type { Args } from './messages';

export const RECORD_UPDATE = 1;

export interface UpdateRecord {
  ts: number;
  id: string;
  asset: string;
  model: string;
  op: string;
  args: Args | undefined;
}

export function encodeRecord(r: UpdateRecord): Uint8Array {
  return packMsgpack([RECORD_UPDATE, r.ts, r.id, r.asset, r.model, r.op, r.args ?? null]);
}

/** Writes a record's payload at the writer's position (the hot path: no intermediate array). */
export function writeRecord(w: MsgWriter, ts: number, id: string, asset: string, model: string, op: string, args: Args | undefined): void {
  w.arrayHeader(7);
  w.num(RECORD_UPDATE);
  w.num(ts);
  w.str(id);
  w.str(asset);
  w.str(model);
  w.str(op);
  w.value(args ?? null);
}

const reader = new MsgReader();
const NO_BYTES = new Uint8Array(0);

/** Decodes a record payload; throws with a sentence when it is not one. */
export function decodeRecord(payload: Uint8Array): UpdateRecord {
  const r = reader.reset(payload);
  const n = r.arrayHeader();
  const kind = n > 0 ? r.value() : undefined;
  if (kind !== RECORD_UPDATE || n < 7) throw new Error(`not an update record (kind ${String(kind)}, ${n} fields)`);
  const ts = r.num();
  const id = r.str();
  const asset = r.str();
  const model = r.str();
  const op = r.str();
  const args = r.value();
  return { ts, id, asset, model, op, args: args === null ? undefined : (args as Args) };
}

/**
 * Both decoders keep their last input until the next decode: after a load, that is the
 * snapshot body (a hundred MiB at a million accounts) or a view into a whole log segment
 * (64 MiB), which would outlive the load for as long as nothing else is decoded, and a
 * start's collection would not free it. Called once a load ends, not per record.
 */
export function releaseDecodedBuffers(): void {
  reader.reset(NO_BYTES);
  releaseMsgpackBuffer();
}
