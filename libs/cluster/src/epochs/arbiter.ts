/**
 * The arbiter (docs/PAIR.md rule 5): a third party that holds `{ epoch, primary }` for
 * the cluster and changes it only by compare-and-set, so that of two nodes racing to
 * open the same epoch (a partition, a paused primary waking up) exactly one wins.
 * Production: a NATS JetStream KV key (libs/transport-nats); the simulator: in memory.
 */
export interface ArbiterValue {
  epoch: number;
  primary: string;
  /**
   * The seq of the epoch's first record (the primary's lastSeq + 1 when it opened it), so
   * that a node lacking the epoch can say which records it lacks. Values written before
   * this field existed do not carry it.
   */
  firstSeq?: number;
}

export interface ArbiterRead {
  /** null when nothing was ever written. */
  value: ArbiterValue | null;
  /** The revision to pass to `compareAndSet` (0 when the key does not exist). */
  revision: number;
}

export type CasResult = { ok: true; revision: number } | { ok: false; current: ArbiterRead };

export interface Arbiter {
  read(): Promise<ArbiterRead>;
  /** Writes `value` only if the key is still at `revision`; otherwise returns what is there now. */
  compareAndSet(revision: number, value: ArbiterValue): Promise<CasResult>;
  close(): Promise<void>;
}
