/**
 * `txtest-admin inspect <data-dir> [--from SEQ] [--to SEQ]`: a stopped node's log as
 * JSON lines, one per record: seq, epoch, ts, id, asset, model, op, args and the
 * outcome the record had (the reply a retry of its id gets). The outcome is computed by
 * applying the log from the newest snapshot before `--from` (or from the first record);
 * records older than any state the data dir can rebuild are answered from the next
 * snapshot's memory of request ids, null once that has let them go. Reads only; a
 * damaged log is refused as `verify` would.
 */
import { loadSnapshotSliced } from '@txtest/actors';
import type { Command, Flag, Values } from '@txtest/cli';
import { decodeFrameAt, JournalCorruptError, readFrames, readSnapshot, SnapshotCorruptError, verifyLog, type LogCheck } from '@txtest/journal';
import { decodeRecord, type UpdateReply } from '@txtest/protocol';
import { openDataDir } from './data-dir';
import { offlineProcessor } from './offline-processor';

export const INSPECT_FLAGS = [
  { name: 'from', type: 'int', min: 1, value: 'seq', help: 'first record to print (default: the oldest the log holds)' },
  { name: 'to', type: 'int', min: 1, value: 'seq', help: 'last record to print (default: the newest)' },
] as const satisfies readonly Flag[];

export const INSPECT_COMMAND: Command<typeof INSPECT_FLAGS> = {
  prog: 'txtest-admin inspect',
  usage: ['<data-dir> [--from SEQ] [--to SEQ]'],
  about: ["Prints a stopped node's log records as JSON lines: seq, epoch, ts, id, asset, model, op, args, outcome."],
  flags: INSPECT_FLAGS,
  positionals: { max: 1, names: 'a data directory' },
};

/** Bytes of frames read from the log at a time. */
const READ_BYTES = 8 * 2 ** 20;

export async function inspect(
  path: string | undefined,
  v: Values<typeof INSPECT_FLAGS>,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  const dir = openDataDir(path);
  let check: LogCheck;
  try {
    check = await verifyLog(dir.log, () => undefined);
  } catch (e) {
    if (e instanceof JournalCorruptError || e instanceof SnapshotCorruptError) {
      err(`${dir.path}: DAMAGED: ${e.message} (txtest-admin verify says more)`);
      return 1;
    }
    throw e;
  }
  const from = v.from ?? Math.max(1, check.firstSeq);
  const to = v.to ?? check.lastSeq;
  if (check.records === 0 || from > to) return 0;
  const p = offlineProcessor();
  const load = async (name: string) => void (await loadSnapshotSliced(p, (await readSnapshot(dir.log, name)).body, async () => undefined));
  // The state just before `from`: the newest snapshot below it whose next record the log
  // holds, or none at seq 1. Failing both (older segments compacted away), the oldest
  // snapshot at or after it: records up to its seq are answered from its memory of ids.
  const before = check.snapshots.filter((s) => s.seq < from && s.seq >= check.firstSeq - 1).at(-1);
  const after = before === undefined && check.firstSeq > 1 ? check.snapshots.find((s) => s.seq >= from - 1) : undefined;
  const base = before ?? after;
  if (base !== undefined) await load(base.name);
  const stateAt = base?.seq ?? 0;
  let next = before !== undefined ? before.seq + 1 : after !== undefined ? from : 1;
  while (next <= to) {
    const frames = await readFrames(dir.log, next, READ_BYTES);
    if (frames.length === 0) break;
    for (const frame of frames) {
      const f = decodeFrameAt(frame, 0);
      if (typeof f === 'string') throw new JournalCorruptError(`a frame read back from the log does not decode (${f})`, '', 0);
      if (f.seq > to) return 0;
      const rec = decodeRecord(f.payload);
      if (f.seq > stateAt) p.applyRecord(f.epoch, f.seq, f.payload);
      if (f.seq >= from) {
        out(
          JSON.stringify({
            seq: f.seq,
            epoch: f.epoch,
            ts: rec.ts,
            id: rec.id,
            asset: rec.asset,
            model: rec.model,
            op: rec.op,
            args: rec.args ?? null,
            outcome: outcomeOf(p.rememberedReply(rec.id)),
          }),
        );
      }
      next = f.seq + 1;
    }
  }
  return 0;
}

/** What the record's update came to, as its reply says it (null when not known). */
function outcomeOf(r: UpdateReply | undefined): unknown {
  if (r === undefined) return null;
  if (!r.ok) return 'error' in r ? { ok: false, version: (r as { version?: number }).version, error: r.error } : { ok: false };
  return { ok: true, version: r.version, result: r.result };
}
