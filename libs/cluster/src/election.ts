/**
 * The start-up and rejoin rules of the Raft-lite epoch store (DESIGN.md section 5),
 * as pure functions over what two nodes know of themselves.
 */
import type { EpochRecord } from './epoch-store';

export interface Candidate {
  nodeId: string;
  record: EpochRecord;
  lastSeq: number;
}

/**
 * Both nodes up, neither serving: the node that was primary in the highest epoch wins;
 * with no such node, the longer log; then the lower node id.
 */
export function choosePrimary(a: Candidate, b: Candidate, arbiter: { epoch: number; primary: string } | null = null): { primary: string; reason: string } {
  // The arbiter outlives both nodes' disks: if it names one of them in an epoch newer
  // than either record, that node was the last primary whatever the records say.
  if (arbiter !== null && arbiter.epoch > Math.max(a.record.epoch, b.record.epoch) && (arbiter.primary === a.nodeId || arbiter.primary === b.nodeId)) {
    return { primary: arbiter.primary, reason: `the arbiter names ${arbiter.primary} as primary in epoch ${arbiter.epoch}` };
  }
  const [hi, lo] = a.record.epoch >= b.record.epoch ? [a, b] : [b, a];
  const last = hi.record.primary;
  if (hi.record.epoch > 0 && (last === a.nodeId || last === b.nodeId)) {
    // Equal epochs must name the same primary; if they do not, the records disagree and
    // the rule below decides rather than trusting either.
    if (hi.record.epoch !== lo.record.epoch || lo.record.primary === last || lo.record.primary === '') {
      return { primary: last, reason: `${last} was primary in epoch ${hi.record.epoch}, the highest either node knows` };
    }
  }
  if (a.lastSeq !== b.lastSeq) {
    const longer = a.lastSeq > b.lastSeq ? a : b;
    return { primary: longer.nodeId, reason: `no last primary is known; ${longer.nodeId} has the longer log (seq ${longer.lastSeq})` };
  }
  const lower = a.nodeId < b.nodeId ? a : b;
  return { primary: lower.nodeId, reason: `no history decides; ${lower.nodeId} has the lower node id` };
}

/** Last seq of `epoch` in a log described by `history` and ending at `lastSeq` (-1 if the epoch is not in it). */
function epochEnd(history: readonly [number, number][], lastSeq: number, epoch: number): number {
  for (let i = 0; i < history.length; i++) {
    if (history[i]![0] !== epoch) continue;
    const next = history[i + 1];
    return next === undefined ? lastSeq : next[1] - 1;
  }
  return -1;
}

/**
 * How far a joiner's log agrees with the primary's: the highest seq up to which both
 * hold the same records, found by the latest epoch the two histories share (as Kafka's
 * leader-epoch lookup). Records of the joiner after it were never confirmed to a client.
 */
export function agreedPrefix(primary: { history: readonly [number, number][]; lastSeq: number }, joiner: { history: readonly [number, number][]; lastSeq: number }): number {
  for (let i = joiner.history.length - 1; i >= 0; i--) {
    const epoch = joiner.history[i]![0];
    const theirs = epochEnd(primary.history, primary.lastSeq, epoch);
    if (theirs < 0) continue;
    const mine = epochEnd(joiner.history, joiner.lastSeq, epoch);
    return Math.max(0, Math.min(mine, theirs));
  }
  return 0;
}

/** Adds `[epoch, firstSeq]` to a history when a log first holds a record of `epoch`. */
export function noteEpoch(history: [number, number][], epoch: number, firstSeq: number): [number, number][] {
  const last = history[history.length - 1];
  if (last !== undefined && last[0] >= epoch) return history;
  return [...history.filter(([, first]) => first < firstSeq), [epoch, firstSeq]];
}
