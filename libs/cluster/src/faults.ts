/**
 * Test-only switches that break the implementation on purpose, so that the tools meant
 * to catch such bugs (the loadgen's audit, the deterministic simulator) can be shown to
 * catch them. Production never sets any: the node app only reads them from
 * TXTEST_TEST_FAULTS and logs a loud warning when it does.
 */
import { DedupeTable, type DedupeEntry, type Processor, type ReplySink } from '@txtest/actors';
import type { UpdateRequest } from '@txtest/protocol';

export const FAULT_NAMES = [
  /** The primary acks an update to the client but never applies or replicates it. */
  'drop-acked',
  /** The primary replies before the standby has acknowledged the update. */
  'reply-before-standby-ack',
  /** A node ignores a higher epoch seen from its peer (no fencing). */
  'no-fencing',
  /** A rejoining node keeps its divergent suffix instead of truncating it. */
  'skip-rejoin-truncation',
  /** A node that takes over forgets the request ids it had (exactly-once lost). */
  'forget-dedupe-on-failover',
] as const;

export type FaultName = (typeof FAULT_NAMES)[number];
export type Faults = ReadonlySet<FaultName>;

export const NO_FAULTS: Faults = new Set();

/** Parses a comma-separated list; an unknown name is an error naming it. */
export function parseFaults(text: string | undefined): Faults {
  if (!text) return NO_FAULTS;
  const out = new Set<FaultName>();
  for (const raw of text.split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    if (!(FAULT_NAMES as readonly string[]).includes(name)) {
      throw new Error(`unknown test fault "${name}" (known: ${FAULT_NAMES.join(', ')})`);
    }
    out.add(name as FaultName);
  }
  return out;
}

/**
 * `drop-acked`: the door's processor as the broken path sees it. One update in every
 * `every` gets an `ok` that looks real (the asset's next version, the current seq and
 * epoch) but is never submitted: not applied, not logged, not replicated, not
 * remembered. Everything else passes through untouched.
 */
export function dropAckedProcessor(p: Processor, every = 500): Processor {
  let n = 0;
  const broken = Object.create(p) as Processor;
  broken.submit = (req: UpdateRequest, sink: ReplySink, index: number): void => {
    if (!p.accepting || ++n % every !== 0) return p.submit(req, sink, index);
    const q = p.query(req.asset);
    const entry: DedupeEntry = DedupeTable.entry(req.id, req.asset, req.op, req.args);
    entry.seq = p.lastSeq;
    entry.epoch = p.epoch;
    entry.version = (q.ok ? q.version : 0) + 1;
    entry.ok = true;
    entry.outcome = q.ok ? q.state : {};
    sink.done(index, entry);
  };
  return broken;
}
