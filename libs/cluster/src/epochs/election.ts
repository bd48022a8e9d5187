/**
 * The start-up and rejoin rules of the Raft-lite epoch store (docs/PAIR.md), as pure
 * functions over what two nodes know of themselves.
 *
 * Election follows Raft's up-to-date rule: the node whose log is further along wins,
 * never the node some record names, since a name outlives the disk it refers to (a
 * replaced data dir comes back empty while the arbiter still names it). A name only
 * breaks ties between equal logs, and decides who may serve alone.
 */
import type { ArbiterValue } from './arbiter';
import type { EpochRecord } from './epoch-store';

export interface Candidate {
  nodeId: string;
  record: EpochRecord;
  lastSeq: number;
  /**
   * A peer's candidate comes from its hello or heartbeat, which may have waited in the
   * network while the peer went on (won an epoch, served it): the highest arbiter epoch
   * the peer had read or won when it sent it. Absent in this node's own view, which is current.
   */
  arbiterSeen?: number;
}

/**
 * Up to which arbiter epoch a node cannot vouch for its past: `record.since` (the
 * arbiter's epoch when its record began empty). A record with nothing in it and no
 * `since` (written by an older node) vouches for nothing.
 */
function vouchesAfter(c: Candidate): number {
  return c.record.since ?? (isEmpty(c) ? Number.POSITIVE_INFINITY : 0);
}

/** What the arbiter says: its value (null when it holds none), or 'off' when the pair runs without one. */
export type ArbiterView = ArbiterValue | null | 'off';

/** Records that may have been acknowledged but are in no log a node can offer. */
export interface MissingRange {
  epoch: number;
  /** The node that was primary of that epoch. */
  primary: string;
  /** The first seq that no surviving log holds (the records from here on may be lost). */
  fromSeq: number;
}

/** Why nobody may serve: what is missing, and which node an operator would force. */
export interface Refusal {
  reason: string;
  missing: MissingRange[];
  /** The node whose log is the best there is: the one to pass --force-primary to. */
  force: string;
}

export interface Election {
  /** The node with the more up-to-date log (or the tie-break winner). */
  primary: string;
  reason: string;
  /** Non-null when that node may not serve: nobody can show it holds every acknowledged update. */
  refusal: Refusal | null;
}

/** Where `epoch` began in a history, or null when the history does not know it. */
export function epochFirstSeq(history: readonly [number, number][], epoch: number): number | null {
  for (const [e, first] of history) if (e === epoch) return first;
  return null;
}

/**
 * The epoch of a log's last record: the latest history entry that begins at or before
 * `lastSeq`. An epoch opened with no record in it yet does not count, nor one whose
 * records a crash took back.
 */
export function lastLogEpoch(c: Candidate): number {
  let epoch = 0;
  for (const [e, first] of c.record.history) if (first <= c.lastSeq && e > epoch) epoch = e;
  return epoch;
}

/** A node with no epoch record and no log: a new member (or one whose disk was replaced). */
export function isEmpty(c: Candidate): boolean {
  return c.record.epoch === 0 && c.record.history.length === 0 && c.lastSeq === 0;
}

/** `epoch 6, seq 812`: a log's position as the election compares it. */
function position(c: Candidate): string {
  return `last record in epoch ${lastLogEpoch(c)}, seq ${c.lastSeq}`;
}

/**
 * Both nodes up, neither serving: the more up-to-date log wins (higher epoch of its
 * last record, then higher lastSeq); between equal logs, a node with history over an
 * empty one, then the node the arbiter names, then the node that was primary in the
 * highest epoch either record knows, then the lower node id. The winner may serve only
 * if it holds everything that may have been acknowledged (see `refusal`).
 */
export function choosePrimary(a: Candidate, b: Candidate, arbiter: ArbiterView): Election {
  const ea = lastLogEpoch(a);
  const eb = lastLogEpoch(b);
  let winner: Candidate;
  let reason: string;
  if (ea !== eb || a.lastSeq !== b.lastSeq) {
    winner = ea > eb || (ea === eb && a.lastSeq > b.lastSeq) ? a : b;
    const loser = winner === a ? b : a;
    reason = `${winner.nodeId} has the more up-to-date log (${position(winner)}; ${loser.nodeId}: ${position(loser)})`;
  } else {
    ({ winner, reason } = breakTie(a, b, arbiter));
  }
  const other = winner === a ? b : a;
  return { primary: winner.nodeId, reason, refusal: refusal(winner, other, arbiter) };
}

function breakTie(a: Candidate, b: Candidate, arbiter: ArbiterView): { winner: Candidate; reason: string } {
  const same = `equal logs (${position(a)})`;
  if (isEmpty(a) !== isEmpty(b)) {
    const winner = isEmpty(a) ? b : a;
    return { winner, reason: `${same}; ${winner.nodeId} has history, ${(winner === a ? b : a).nodeId} is a new member` };
  }
  if (arbiter !== null && arbiter !== 'off') {
    const named = [a, b].find((c) => c.nodeId === arbiter.primary);
    if (named !== undefined) return { winner: named, reason: `${same}; the arbiter names ${named.nodeId} (epoch ${arbiter.epoch})` };
  }
  const [hi, lo] = a.record.epoch >= b.record.epoch ? [a, b] : [b, a];
  const last = [a, b].find((c) => c.nodeId === hi.record.primary);
  // Equal epochs must name the same primary; if they do not, the records disagree and
  // the node id decides rather than trusting either.
  if (hi.record.epoch > 0 && last !== undefined && (hi.record.epoch !== lo.record.epoch || lo.record.primary === last.nodeId || lo.record.primary === '')) {
    return { winner: last, reason: `${same}; ${last.nodeId} was primary in epoch ${hi.record.epoch}, the highest either node knows` };
  }
  const lower = a.nodeId < b.nodeId ? a : b;
  return { winner: lower, reason: `${same}; ${lower.nodeId} has the lower node id` };
}

/** The newest epoch anyone knows was opened, its primary and (when known) where it began. */
export interface NewestEpoch {
  epoch: number;
  primary: string;
  firstSeq: number | null;
}

/**
 * E*: the newest of the arbiter's epoch and both epoch records. An arbiter epoch whose
 * named node is present with a record that never reached it, and that record began
 * before the arbiter's epoch was won, does not count: a node persists an epoch before it
 * serves in it, so that node won the compare-and-set and stopped before serving (nothing
 * can have been acknowledged in it). A record begun empty later (a replaced data dir)
 * proves nothing about that epoch, and neither does a peer's description sent before it
 * knew of that epoch (`arbiterSeen`): it may have won and served it since.
 */
export function newestEpoch(nodes: readonly Candidate[], arbiter: ArbiterView): NewestEpoch {
  let top: NewestEpoch = { epoch: 0, primary: '', firstSeq: null };
  for (const c of nodes) if (c.record.epoch > top.epoch) top = { epoch: c.record.epoch, primary: c.record.primary, firstSeq: null };
  if (arbiter !== null && arbiter !== 'off' && arbiter.epoch >= top.epoch) {
    const named = nodes.find((c) => c.nodeId === arbiter.primary);
    const current = named !== undefined && (named.arbiterSeen === undefined || named.arbiterSeen >= arbiter.epoch);
    const neverServed = current && named.record.epoch < arbiter.epoch && arbiter.epoch > vouchesAfter(named);
    if (!neverServed) top = { epoch: arbiter.epoch, primary: arbiter.primary, firstSeq: arbiter.firstSeq ?? null };
  }
  if (top.firstSeq === null) {
    for (const c of nodes) top.firstSeq ??= epochFirstSeq(c.record.history, top.epoch);
  }
  return top;
}

/**
 * Whether `c` holds every update that may have been acknowledged in epoch `e`: its
 * record says it was primary of `e` (a primary acks only what its own log has) or a
 * caught-up standby of `e` (role `standby` is recorded only once it reached that role,
 * after which the primary acks nothing without it), and its log still reaches back to
 * where `e` began (a log replaced while the epoch record survived does not).
 */
export function coversEpoch(c: Candidate, e: NewestEpoch): boolean {
  if (c.record.epoch !== e.epoch) return false;
  const primary = c.record.role === 'primary' && c.record.primary === c.nodeId;
  if (!primary && c.record.role !== 'standby') return false;
  const first = epochFirstSeq(c.record.history, e.epoch) ?? e.firstSeq;
  return first === null || c.lastSeq >= first - 1;
}

/** `epoch 8 (primary n1, records from seq 1201 on)`, with where the epoch began when that differs. */
export function describeMissing(m: MissingRange, firstSeq: number | null): string {
  const began = firstSeq !== null && firstSeq !== m.fromSeq ? `, begun at seq ${firstSeq}` : '';
  return `epoch ${m.epoch} (primary ${m.primary || 'unknown'}${began}, records from seq ${m.fromSeq} on)`;
}

/**
 * The first seq at which `c`'s log may differ from the lost history of epoch `top`: past
 * its end; from where `top` began, when `c` holds none of it (its records there are of
 * older epochs that `top` replaced); and when epochs `c` never heard of came between its
 * record and `top`, from where its own last epoch began (one of those may have replaced
 * any of it).
 */
function firstLacking(c: Candidate, top: NewestEpoch): number {
  let from = c.lastSeq + 1;
  const mine = lastLogEpoch(c);
  if (mine >= top.epoch) return from;
  if (top.firstSeq !== null) from = Math.min(from, top.firstSeq);
  if (top.epoch > Math.max(c.record.epoch, mine) + 1) from = Math.min(from, epochFirstSeq(c.record.history, mine) ?? 1);
  return from;
}

/** Null when `winner` may serve; else what nobody holds and how an operator can go on. */
function refusal(winner: Candidate, other: Candidate, arbiter: ArbiterView): Refusal | null {
  const top = newestEpoch([winner, other], arbiter);
  const force = `pass --force-primary to ${winner.nodeId} to go on without them`;
  const fromSeq = winner.lastSeq + 1;
  // Without an arbiter nothing outlives a node's disk: a peer that was primary last and
  // comes back empty may have gone on alone, in epochs only its lost record knew.
  const arbiterKnows = arbiter !== null && arbiter !== 'off';
  if (!arbiterKnows && winner.record.epoch > 0 && winner.record.primary === other.nodeId && other.record.epoch === 0) {
    const m: MissingRange = { epoch: winner.record.epoch + 1, primary: other.nodeId, fromSeq };
    return {
      reason: `${other.nodeId} was primary of epoch ${winner.record.epoch} and comes back empty; with no arbiter nobody can tell whether it served on alone after ${winner.nodeId} left: ${describeMissing(m, null)} or later may exist only in its lost log; ${force}`,
      missing: [m],
      force: winner.nodeId,
    };
  }
  if (top.epoch === 0 || coversEpoch(winner, top) || coversEpoch(other, top)) return null;
  // The other node's log holds records of E*: the winner's log is at least as far along
  // in E*, and E*'s records all came from its primary, one of these two.
  if (lastLogEpoch(other) >= top.epoch) return null;
  const m: MissingRange = { epoch: top.epoch, primary: top.primary, fromSeq: firstLacking(winner, top) };
  return {
    reason: `${describeMissing(m, top.firstSeq)} is in no surviving log; it may hold acknowledged updates; ${force}`,
    missing: [m],
    force: winner.nodeId,
  };
}

/** What a node that hears no peer may do: serve only with the arbiter's word and its log's proof. */
export type LoneVerdict = { serve: true; reason: string } | { serve: false; reason: string; missing: MissingRange[] };

/**
 * A node alone (its peer silent) may serve only if the arbiter names it and it holds the
 * newest epoch (its record says primary or caught-up standby of it, and its log really
 * reaches it: the epoch began at seq F, so lastSeq >= F - 1). Otherwise it waits, saying
 * which epoch and records it lacks and how to go on.
 */
export function loneVerdict(me: Candidate, peerId: string, arbiter: ArbiterView): LoneVerdict {
  const force = `pass --force-primary to ${me.nodeId}`;
  if (arbiter === 'off') return { serve: false, reason: `no arbiter: start ${peerId}, or ${force}`, missing: [] };
  if (arbiter === null) return { serve: false, reason: `the arbiter has no primary on record: start ${peerId}, or ${force}`, missing: [] };
  const top = newestEpoch([me], arbiter);
  const mine = arbiter.primary === me.nodeId;
  // Nobody ever served (top.epoch 0: the arbiter's epoch was won by this node, which stopped before serving it).
  if (mine && (top.epoch === 0 || coversEpoch(me, top))) {
    // Named in an epoch its record never reached, it won the compare-and-set and stopped
    // before serving: the epoch it does hold is the last one anybody served in.
    return { serve: true, reason: `the arbiter confirms this node as primary (epoch ${arbiter.epoch}), and its log holds every update of epoch ${top.epoch}` };
  }
  if (coversEpoch(me, top)) {
    return {
      serve: false,
      reason: `the arbiter names ${arbiter.primary} in epoch ${arbiter.epoch}; only it may serve alone; this node holds every update acknowledged in that epoch, so ${force} loses nothing`,
      missing: [],
    };
  }
  // Not simply past its end: records this node holds from where that epoch began are of
  // older epochs it replaced (simulator seed 4066 forced such a node, told nothing was lost).
  const m: MissingRange = { epoch: arbiter.epoch, primary: arbiter.primary, fromSeq: top.epoch === arbiter.epoch ? firstLacking(me, top) : me.lastSeq + 1 };
  const what = mine
    ? `the arbiter names this node primary of epoch ${arbiter.epoch}, but its ${me.record.epoch === 0 ? 'data dir holds nothing (replaced?)' : 'log does not reach that epoch (a lost log?)'}`
    : `the arbiter names ${arbiter.primary} primary of epoch ${arbiter.epoch}`;
  const who = mine ? `start ${peerId} if it has them` : `start ${peerId}`;
  return {
    serve: false,
    reason: `${what}: ${describeMissing(m, top.firstSeq)} is not in this node's log and may hold acknowledged updates; ${who}, or ${force} to go on without them`,
    missing: [m],
  };
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
export function agreedPrefix(
  primary: { history: readonly [number, number][]; lastSeq: number },
  joiner: { history: readonly [number, number][]; lastSeq: number },
): number {
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
