/**
 * The Raft-lite epoch record (docs/DECISIONS.md, "Epochs"), persisted atomically by an
 * EpochStorage (write temp, fsync, rename) before the node serves in a new epoch.
 *
 *   { epoch, role, primary, history: [[epoch, firstSeq], ...] }
 *
 * `history` lists where each epoch began in this node's log, oldest first (as Kafka's
 * leader-epoch checkpoint); it is what two nodes compare to find where their logs part.
 */
export interface EpochRecord {
  /** The highest epoch this node has seen and accepted. */
  epoch: number;
  /** The role this node held in that epoch. */
  role: string;
  /** The node that was primary in that epoch ('' when unknown). */
  primary: string;
  history: [epoch: number, firstSeq: number][];
  /**
   * The arbiter's epoch when this record began empty (a new or replaced data dir; 0 in
   * a new pair). Epochs after it that the record never reached were never served by
   * this node; epochs up to it may have been, by what the replaced dir held.
   */
  since?: number;
}

export interface EpochStorage {
  load(): Promise<EpochRecord | null>;
  save(record: EpochRecord): Promise<void>;
}

export const EMPTY_EPOCH_RECORD: EpochRecord = Object.freeze({ epoch: 0, role: 'none', primary: '', history: [] }) as EpochRecord;

/** Validates a decoded record; returns the problem or null. */
export function epochRecordProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return 'not an object';
  const r = v as Partial<EpochRecord>;
  if (!Number.isSafeInteger(r.epoch) || (r.epoch as number) < 0) return 'epoch is not a non-negative integer';
  if (typeof r.role !== 'string' || typeof r.primary !== 'string') return 'role or primary is not a string';
  if (!Array.isArray(r.history) || !r.history.every((h) => Array.isArray(h) && h.length === 2 && h.every(Number.isSafeInteger))) {
    return 'history is not a list of [epoch, firstSeq] pairs';
  }
  if (r.since !== undefined && (!Number.isSafeInteger(r.since) || r.since < 0)) return 'since is not a non-negative integer';
  return null;
}
