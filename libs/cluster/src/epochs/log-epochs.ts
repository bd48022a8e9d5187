/**
 * The log's word on its epochs against the epoch record's. Every record in the log
 * carries its epoch, so the log itself shows where each epoch began. A promotion with an
 * arbiter serves before its record's save is on disk (promotion.ts), and a standby's
 * notes of a new epoch are saved as it goes: after a crash the log may hold records of an
 * epoch the record never reached. The election reads the record's history, so a start
 * is put right before the node takes a role (docs/PAIR.md, "Epochs in the log").
 */
import { noteEpoch, type ArbiterView } from './election';
import type { EpochRecord } from './epoch-store';

/**
 * The record with every epoch start the log shows and the history lacks, or null when it
 * lacks none. An epoch past the record's own was opened by this node if the arbiter
 * names it in exactly that epoch (one node wins an epoch, before any record of it
 * exists); otherwise the node was following someone in it, and is noted as `syncing`,
 * which vouches for nothing: the election then asks the peer or an operator.
 */
export function recordAfterLog(record: EpochRecord, starts: readonly [number, number][], arbiter: ArbiterView, nodeId: string): EpochRecord | null {
  let r = record;
  for (const [epoch, firstSeq] of starts) {
    const last = r.history[r.history.length - 1];
    if (last !== undefined && last[0] >= epoch) continue;
    const history = noteEpoch(r.history, epoch, firstSeq);
    if (epoch <= r.epoch) {
      r = { ...r, history };
      continue;
    }
    const mine = arbiter !== null && arbiter !== 'off' && arbiter.epoch === epoch && arbiter.primary === nodeId;
    r = mine ? { ...r, epoch, role: 'primary', primary: nodeId, history } : { ...r, epoch, role: 'syncing', primary: '', history };
  }
  return r === record ? null : r;
}
