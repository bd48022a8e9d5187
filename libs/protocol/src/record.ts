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
import { packMsgpack, unpackMsgpack } from './codec';
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

export function decodeRecord(payload: Uint8Array): UpdateRecord {
  const a = unpackMsgpack(payload) as unknown[];
  if (!Array.isArray(a) || a[0] !== RECORD_UPDATE || a.length < 7) {
    throw new Error(`not an update record (kind ${Array.isArray(a) ? String(a[0]) : typeof a})`);
  }
  return {
    ts: a[1] as number,
    id: a[2] as string,
    asset: a[3] as string,
    model: a[4] as string,
    op: a[5] as string,
    args: (a[6] ?? undefined) as Args | undefined,
  };
}
