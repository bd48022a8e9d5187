/**
 * Test-only switches that break the implementation on purpose, so that the tools meant
 * to catch such bugs (the loadgen's audit, the deterministic simulator) can be shown to
 * catch them. Production never sets any: the node app only reads them from
 * TXTEST_TEST_FAULTS and logs a loud warning when it does.
 */
import { DedupeTable, type DedupeEntry, type Processor, type ReplySink } from '@txtest/actors';
import type { UpdateRequest } from '@txtest/protocol';
import { choosePrimary, type ArbiterView, type Candidate, type Election } from './epochs/election';

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
  /** Negotiation elects by name (the arbiter's, then the last primary's), not by log: an empty disk can win. */
  'elect-by-name',
  /** With `--reply-from standby`, the standby publishes forwarded replies on receipt, before its log holds the records. */
  'standby-replies-before-write',
] as const;

export type FaultName = (typeof FAULT_NAMES)[number];
export type Faults = ReadonlySet<FaultName>;

export const NO_FAULTS: Faults = new Set();

/**
 * What the core asks of the faults at the points they break: each fault named is one
 * behaviour here, so the core holds no `has(name)` branches. `faultBehaviours(NO_FAULTS)`
 * (NO_FAULT_BEHAVIOURS) is production: every behaviour is the correct one.
 */
export interface FaultBehaviours {
  /** The processor the client door submits to (`drop-acked` wraps it). */
  doorProcessor(p: Processor): Processor;
  /** Whether a primary's replies wait for the standby's ack (`reply-before-standby-ack`: no). */
  readonly repliesWaitForStandby: boolean;
  /** Whether a standby's forwarded replies wait for its own log (`standby-replies-before-write`: no). */
  readonly standbyRepliesWaitForLog: boolean;
  /** Whether a node fences itself on a newer epoch from its peer (`no-fencing`: no). */
  readonly fencesOnNewerEpoch: boolean;
  /** Whether a primary leaves a rejoining node its divergent suffix (`skip-rejoin-truncation`). */
  readonly skipsRejoinTruncation: boolean;
  /** Called as this node opens an epoch taking over from another primary (`forget-dedupe-on-failover`). */
  onTakeOver(p: Processor): void;
  /** The election rule of negotiation (`elect-by-name`: by name, not by log). */
  readonly elect: (a: Candidate, b: Candidate, arbiter: ArbiterView) => Election;
}

/** The behaviours for a set of fault names. */
export function faultBehaviours(faults: Faults): FaultBehaviours {
  return {
    doorProcessor: faults.has('drop-acked') ? (p) => dropAckedProcessor(p) : (p) => p,
    repliesWaitForStandby: !faults.has('reply-before-standby-ack'),
    fencesOnNewerEpoch: !faults.has('no-fencing'),
    standbyRepliesWaitForLog: !faults.has('standby-replies-before-write'),
    skipsRejoinTruncation: faults.has('skip-rejoin-truncation'),
    onTakeOver: faults.has('forget-dedupe-on-failover') ? (p) => p.forgetRequestIds() : () => undefined,
    elect: faults.has('elect-by-name') ? electByName : choosePrimary,
  };
}

export const NO_FAULT_BEHAVIOURS: FaultBehaviours = faultBehaviours(NO_FAULTS);

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

/**
 * `elect-by-name`: the election rule before it followed the logs. The node the arbiter
 * names in an epoch newer than both records wins, else the node that was primary in the
 * highest epoch either record knows, else the longer log, else the lower node id; and
 * it always serves. A replaced (empty) data dir that a name still points to wins.
 */
export function electByName(a: Candidate, b: Candidate, arbiter: ArbiterView): Election {
  const won = (primary: string, reason: string): Election => ({ primary, reason, refusal: null });
  if (
    arbiter !== null &&
    arbiter !== 'off' &&
    arbiter.epoch > Math.max(a.record.epoch, b.record.epoch) &&
    (arbiter.primary === a.nodeId || arbiter.primary === b.nodeId)
  ) {
    return won(arbiter.primary, `the arbiter names ${arbiter.primary} as primary in epoch ${arbiter.epoch}`);
  }
  const [hi, lo] = a.record.epoch >= b.record.epoch ? [a, b] : [b, a];
  const last = hi.record.primary;
  if (hi.record.epoch > 0 && (last === a.nodeId || last === b.nodeId)) {
    if (hi.record.epoch !== lo.record.epoch || lo.record.primary === last || lo.record.primary === '') {
      return won(last, `${last} was primary in epoch ${hi.record.epoch}, the highest either node knows`);
    }
  }
  if (a.lastSeq !== b.lastSeq) {
    const longer = a.lastSeq > b.lastSeq ? a : b;
    return won(longer.nodeId, `no last primary is known; ${longer.nodeId} has the longer log (seq ${longer.lastSeq})`);
  }
  return won(a.nodeId < b.nodeId ? a.nodeId : b.nodeId, 'no history decides; the lower node id');
}
