/**
 * The invariant checker. It watches what the outside world can see (every reply a node
 * publishes, every record a node applies, every role change, the disks) and stops the
 * run at the first violation:
 *
 * - acked-update-lost: an acknowledged update is missing where it must be: another id
 *   acknowledged at its seq, a node taking the primary role without it, or the final
 *   logs and balances without it.
 * - applied-twice: one request id acknowledged with two different outcomes (seq,
 *   epoch, version), or present twice in a log, or counted twice in a balance.
 * - one-acker-per-epoch: two nodes sent acknowledgements while in the same epoch.
 * - reply-reveals-unreplicated: the first reply for an update left a primary before
 *   its standby had received the record, or a solo node before its log had it written
 *   (synced, with `--fsync always`).
 * - log-prefix-consistency: two logs hold different records at the same (epoch, seq),
 *   or one log's epochs go down.
 * - convergence-liveness: after the faults stop and the pair heals, every client
 *   request is answered, one node is primary and the other standby, both at the same
 *   seq with equal digests, and a last round of requests is served.
 * - elected-shorter-log: a node decided primary in negotiation, its peer up and heard,
 *   with a log behind the peer's as the peer reported it (Raft's up-to-date rule:
 *   higher epoch of the last record, then higher seq). Failover is no election.
 * - core-error: the core caught one of its own exceptions (a programmer error).
 * - bad-reply: a reply the protocol forbids for these valid requests.
 *
 * An operator's --force-primary over a refusal (nobody held the newest epoch) may lose
 * acknowledged updates by the operator's decision: `forgive` is told the seqs it gives up.
 */
import { lastLogEpoch, type Candidate } from '@txtest/cluster';
import { FRAME_OVERHEAD_BYTES } from '@txtest/journal';
import { decodeBody, decodeRecord } from '@txtest/protocol';
import type { ClientRequest } from './client';
import type { SimNode } from './node';

export type InvariantName =
  | 'acked-update-lost'
  | 'applied-twice'
  | 'one-acker-per-epoch'
  | 'reply-reveals-unreplicated'
  | 'log-prefix-consistency'
  | 'convergence-liveness'
  | 'elected-shorter-log'
  | 'core-error'
  | 'bad-reply';

export interface Violation {
  invariant: InvariantName;
  detail: string;
  /** Simulated ms when it was found. */
  t: number;
}

interface ReplyFacts {
  seq: number;
  epoch: number;
  version: number;
  ok: boolean;
  node: string;
}

interface Held {
  /** What the current incarnation holds in memory: seq -> id (plus everything up to snapTop). */
  now: Map<number, string>;
  snapTop: number;
  /** What this node ever received, across incarnations (the "received" ack's witness). */
  ever: Map<number, string>;
  everSnapTop: number;
}

export class Checker {
  violation: Violation | null = null;
  private readonly ackerOfEpoch = new Map<number, string>();
  readonly byId = new Map<string, ReplyFacts>();
  readonly bySeq = new Map<number, string>();
  private readonly held = new Map<string, Held>();
  /** Acknowledgements an operator's force gave up: id -> the reply that is no longer owed. */
  private readonly forgiven = new Map<string, ReplyFacts>();
  /**
   * Records the forced node held from the given-up seq on (never confirmed in its own
   * epoch): they stay applied in the history it goes on with, at these seqs.
   */
  private readonly revived = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private readonly nodes: () => readonly SimNode[],
    private readonly strictSync: boolean,
  ) {}

  fail(invariant: InvariantName, detail: string): void {
    if (this.violation === null) this.violation = { invariant, detail, t: this.now() };
  }

  private h(node: string): Held {
    let h = this.held.get(node);
    if (h === undefined) this.held.set(node, (h = { now: new Map(), snapTop: 0, ever: new Map(), everSnapTop: 0 }));
    return h;
  }

  onIncarnation(node: SimNode): void {
    const h = this.h(node.id);
    h.now = new Map();
    h.snapTop = 0;
  }

  onApplied(node: SimNode, seq: number, id: string): void {
    const h = this.h(node.id);
    h.now.set(seq, id);
    h.ever.set(seq, id);
  }

  onSnapshotLoaded(node: SimNode, seq: number): void {
    const h = this.h(node.id);
    for (const s of h.now.keys()) if (s > seq) h.now.delete(s);
    h.snapTop = seq;
    h.everSnapTop = Math.max(h.everSnapTop, seq);
  }

  /** A node now serves (primary or solo): it must hold every acknowledged update. */
  onServing(node: SimNode): void {
    const h = this.h(node.id);
    for (const [seq, id] of this.bySeq) {
      if (seq <= h.snapTop) continue;
      const got = h.now.get(seq);
      if (got !== id) {
        return this.fail(
          'acked-update-lost',
          `${node.id} became ${node.role} without acknowledged update ${id} at seq ${seq} (it holds ${got ?? 'nothing'} there; lastSeq ${node.node?.processor.lastSeq})`,
        );
      }
    }
  }

  /**
   * A node decided primary in negotiation while it heard its peer: its log must not be
   * behind the log the peer reported (the summary the decision weighed).
   */
  onElected(node: SimNode, me: Candidate, peer: Candidate): void {
    const [em, ep] = [lastLogEpoch(me), lastLogEpoch(peer)];
    if (em < ep || (em === ep && me.lastSeq < peer.lastSeq)) {
      this.fail(
        'elected-shorter-log',
        `${node.id} was elected with its log at epoch ${em} seq ${me.lastSeq}, behind ${peer.nodeId}'s at epoch ${ep} seq ${peer.lastSeq}`,
      );
    }
  }

  /**
   * The operator forced a node over the pair's refusal: acknowledged updates from
   * `fromSeq` on were in no surviving log, and are given up. Later acks may reuse those seqs.
   * `kept` is what the forced node's log holds from `fromSeq` on (seq -> id).
   */
  forgive(fromSeq: number, kept: ReadonlyMap<number, string>): string[] {
    for (const [seq, id] of kept) if (seq >= fromSeq) this.revived.set(id, seq);
    const gone: string[] = [];
    for (const [seq, id] of this.bySeq) {
      if (seq < fromSeq) continue;
      this.bySeq.delete(seq);
      const f = this.byId.get(id);
      if (f !== undefined) this.forgiven.set(id, f);
      this.byId.delete(id);
      gone.push(id);
    }
    return gone;
  }

  /** Every message a node publishes on a client inbox: a reply. */
  onNodeReply(node: SimNode, bytes: Uint8Array): void {
    const d = decodeBody(bytes, 'msgpack');
    if (!d.ok) return this.fail('bad-reply', `${node.id} sent an undecodable reply`);
    const v = d.value as { batch?: unknown[] };
    const entries = Array.isArray(v.batch) ? v.batch : [v];
    for (const e of entries as { id?: string; ok: boolean; seq?: number; epoch?: number; version?: number; error?: { code: string } }[]) {
      if (typeof e.seq !== 'number' || typeof e.id !== 'string') continue;
      if (!e.ok && e.error?.code !== 'REJECTED') continue;
      this.onAck(node, { seq: e.seq, epoch: e.epoch!, version: e.version!, ok: e.ok, node: node.id }, e.id);
    }
  }

  private onAck(node: SimNode, f: ReplyFacts, id: string): void {
    const tx = node.node!;
    const myEpoch = tx.status(false).epoch;
    const peer = this.nodes().find((n) => n.id !== node.id)!;
    // A standby publishes its primary's replies (`--reply-from standby`): they are that primary's acks.
    const acker = node.role === 'standby' ? peer.id : node.id;
    const other = this.ackerOfEpoch.get(myEpoch);
    if (other === undefined) this.ackerOfEpoch.set(myEpoch, acker);
    else if (other !== acker)
      return this.fail(
        'one-acker-per-epoch',
        `${acker} acknowledged ${id} (seq ${f.seq}) in epoch ${myEpoch}${acker === node.id ? '' : ` (through its standby ${node.id})`}, in which ${other} acknowledged updates too`,
      );

    const known = this.byId.get(id);
    if (known !== undefined) {
      if (known.seq !== f.seq || known.epoch !== f.epoch || known.version !== f.version || known.ok !== f.ok) {
        return this.fail(
          'applied-twice',
          `${id} was acknowledged as seq ${known.seq} epoch ${known.epoch} v${known.version} by ${known.node}, and now as seq ${f.seq} epoch ${f.epoch} v${f.version} by ${node.id}`,
        );
      }
      return;
    }
    this.byId.set(id, f);
    const at = this.bySeq.get(f.seq);
    if (at !== undefined && at !== id)
      return this.fail('acked-update-lost', `${node.id} acknowledged ${id} at seq ${f.seq}, where ${at} had been acknowledged: ${at} is lost`);
    this.bySeq.set(f.seq, id);
    // The first reveal of this update: was it where the reply gate says it must be?
    const role = node.role;
    const ph = this.h(peer.id);
    const atPeer = ph.ever.get(f.seq) === id || f.seq <= ph.everSnapTop;
    const onDisk = node.disk.holds(f.seq, this.strictSync);
    // A primary must not reveal what its standby lacks: the standby could take over without
    // it. What a primary holds in its own log (e.g. recovered records it answers a retry
    // from) is safe while the peer is not a standby yet: the peer must catch up before it can.
    // A standby publishing its primary's reply must have it in its own log (the primary
    // sent it, so the primary holds it too).
    const ok = role === 'solo' || role === 'standby' ? onDisk : atPeer || (onDisk && (role !== 'primary' || peer.role !== 'standby'));
    if (!ok) {
      return this.fail(
        'reply-reveals-unreplicated',
        `${node.id} (${role}) acknowledged ${id} at seq ${f.seq} before ${role === 'primary' ? `standby ${peer.id} had received it` : 'its log had it'}`,
      );
    }
    const h = this.h(node.id);
    h.now.set(f.seq, id);
    h.ever.set(f.seq, id);
  }

  /** Two logs agree on every (epoch, seq) they share; one log's epochs never go down. */
  checkLogs(): void {
    const nodes = this.nodes();
    const logs = nodes.map((n) => n.disk.frames());
    for (let i = 0; i < logs.length; i++) {
      let lastEpoch = 0;
      for (const seq of [...logs[i]!.keys()].sort((a, b) => a - b)) {
        const e = logs[i]!.get(seq)!.epoch;
        if (e < lastEpoch) return this.fail('log-prefix-consistency', `${nodes[i]!.id}'s log goes from epoch ${lastEpoch} down to ${e} at seq ${seq}`);
        lastEpoch = e;
      }
    }
    const [a, b] = logs as [Map<number, { epoch: number; bytes: Uint8Array }>, Map<number, { epoch: number; bytes: Uint8Array }>];
    for (const [seq, fa] of a) {
      const fb = b.get(seq);
      if (fb === undefined || fb.epoch !== fa.epoch) continue;
      if (!sameBytes(fa.bytes, fb.bytes))
        return this.fail('log-prefix-consistency', `seq ${seq} of epoch ${fa.epoch} differs between ${nodes[0]!.id} and ${nodes[1]!.id}`);
    }
  }

  /** The end of a run: logs, balances and answers agree with every acknowledgement. */
  checkFinal(requests: readonly ClientRequest[]): void {
    this.checkLogs();
    if (this.violation) return;
    for (const n of this.nodes()) {
      const seen = new Map<string, number>();
      for (const [seq, f] of n.disk.frames()) {
        const id = decodeRecord(f.bytes.subarray(FRAME_OVERHEAD_BYTES)).id;
        const prev = seen.get(id);
        if (prev !== undefined) return this.fail('applied-twice', `${id} is in ${n.id}'s log twice, at seq ${prev} and ${seq}`);
        seen.set(id, seq);
        const acked = this.bySeq.get(seq);
        if (acked !== undefined && acked !== id)
          return this.fail('acked-update-lost', `${n.id}'s log holds ${id} at seq ${seq}, where ${acked} was acknowledged`);
      }
    }
    // Balances and versions: every acknowledged update counted exactly once, in seq order.
    // An answer an operator's force gave up is not owed; if the forced node's log kept that
    // update (unconfirmed there), it counts at its seq there, with the outcome the model gives it.
    const byAsset = new Map<string, { seq: number; r: ClientRequest; owed: boolean }[]>();
    for (const r of requests) {
      if (r.answer === null) continue;
      const lost = this.forgiven.get(r.id);
      const given = lost !== undefined && lost.seq === r.answer.seq && lost.epoch === r.answer.epoch;
      const at = given ? this.revived.get(r.id) : r.answer.seq;
      if (at === undefined) continue;
      let l = byAsset.get(r.asset);
      if (l === undefined) byAsset.set(r.asset, (l = []));
      l.push({ seq: at, r, owed: !given });
    }
    for (const [asset, list] of byAsset) {
      list.sort((x, y) => x.seq - y.seq);
      let balance = 0;
      let version = 0;
      for (const { r, owed } of list) {
        const a = r.answer!;
        if (!owed) {
          // The account model's rule: a debit beyond the balance is refused.
          if (r.op === 'credit' || balance >= r.amount) {
            balance += r.op === 'credit' ? r.amount : -r.amount;
            version++;
          }
        } else if (a.ok) {
          balance += r.op === 'credit' ? r.amount : -r.amount;
          version++;
          if (a.balance !== balance || a.version !== version) {
            return this.fail(
              'acked-update-lost',
              `${r.id} on ${asset} (seq ${a.seq}) answered balance ${a.balance} v${a.version}, but the acknowledged updates before it make ${balance} v${version}`,
            );
          }
        } else if (a.version !== version) {
          return this.fail('acked-update-lost', `${r.id} on ${asset} was refused at v${a.version}, but the acknowledged updates before it make v${version}`);
        }
      }
      for (const n of this.nodes()) {
        const q = n.node?.processor.query(asset);
        if (q === undefined) continue;
        const got = q.ok ? (q.state as { balance: number }).balance : 0;
        const gotV = q.ok ? q.version : 0;
        if (got !== balance || gotV !== version) {
          const inv = got > balance ? 'applied-twice' : 'acked-update-lost';
          return this.fail(inv, `${n.id} holds ${asset} = ${got} v${gotV}, but the acknowledged updates make ${balance} v${version}`);
        }
      }
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
