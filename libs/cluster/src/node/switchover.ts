/**
 * A planned role swap without stopping either process (`txtest-admin switchover`,
 * docs/OPERATIONS.md): the primary stops admitting updates, waits until its standby has
 * acknowledged every record, and hands over as a stopping primary does (HANDOVER: the
 * standby promotes at once). It then follows the new primary: the higher epoch fences
 * it, and it syncs back as standby with nothing to drop, since the standby held all of
 * its log. Clients see NOT_PRIMARY or no responder for the length of a promotion, both
 * retryable.
 *
 * The request comes on the node's status subject, which clients may publish on: with a
 * cluster key the node accepts only a request signed with it (a MAC over the subject and
 * a timestamp, fresh and newer than the last one accepted), so a client cannot make the
 * pair swap roles at will.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Processor, RoleState, TimerHandle } from '@txtest/actors';
import type { EpochKeeper } from '../epochs/epoch-keeper';
import type { ClusterKeys } from '../pair/peer-auth';
import type { PairSession } from '../pair/pair-session';
import type { Admission } from '../serving/admission';
import type { Serving } from '../serving/serving';
import type { ResolvedOptions } from './options';

/** How far a signed request's timestamp may be from this node's clock. */
export const SWITCHOVER_FRESH_MS = 30_000;

/** What a switchover request carries besides `switchover: true` (with a cluster key). */
export interface SwitchoverAuth {
  ts: number;
  /** Hex HMAC-SHA256 of `switchoverText(subject, ts)` under the cluster key. */
  mac: string;
}

/** The signed text of a switchover request to `subject` at `ts` (the admin tool signs the same). */
export function switchoverText(subject: string, ts: number): Uint8Array {
  return new TextEncoder().encode(`switchover ${subject} ${ts}`);
}

export type SwitchoverReply = { ok: true; from: string; to: string; epoch: number; lastSeq: number } | { ok: false; error: string };

export interface SwitchoverDeps {
  o: ResolvedOptions;
  processor: Processor;
  epochs: EpochKeeper;
  serving: Serving;
  admission: Admission;
  pair: PairSession | null;
  keys: ClusterKeys | null;
  role(): RoleState;
}

export class Switchover {
  /** While true the node has handed over and waits to be fenced: it must not promote itself meanwhile. */
  handingOver = false;
  private running = false;
  private lastTs = 0;
  private abortTimer: TimerHandle | null = null;

  constructor(private readonly d: SwitchoverDeps) {}

  /** Checks a request's signature; null when it may go ahead, else why not. */
  refusal(body: Partial<SwitchoverAuth>): string | null {
    const { keys, o } = this.d;
    if (keys === null) return null;
    const { ts, mac } = body;
    if (typeof ts !== 'number' || typeof mac !== 'string')
      return 'this node holds a cluster key: a switchover request must be signed with it (txtest-admin --cluster-key-file)';
    if (Math.abs(o.clock.now() - ts) > SWITCHOVER_FRESH_MS)
      return `the request's timestamp is more than ${SWITCHOVER_FRESH_MS / 1000} s from this node's clock`;
    if (ts <= this.lastTs) return 'the request is a replay of an earlier one';
    const given = Buffer.from(mac, 'hex');
    const subject = o.subjects.status(o.nodeId);
    const text = switchoverText(subject, ts);
    const authentic = keys.keys.some((k) => {
      const want = keys.mac(subject, text, k);
      return given.length === want.length && timingSafeEqual(given, want);
    });
    if (!authentic) return "the request is not signed with this pair's cluster key";
    this.lastTs = ts;
    return null;
  }

  /** Hands over to the standby; resolves once HANDOVER is sent (or with why not). */
  async run(): Promise<SwitchoverReply> {
    const { o, processor, pair, serving } = this.d;
    const role = this.d.role();
    if (this.running || this.handingOver) return { ok: false, error: 'a switchover is already running' };
    if (role !== 'primary' || pair === null || pair.replicator.mode !== 'live') {
      return { ok: false, error: `this node is ${role}${role === 'solo' ? ' (no standby attached)' : ''}: only a primary with a live standby can hand over` };
    }
    this.running = true;
    try {
      serving.closeDoor();
      this.d.o.log.info({ standby: o.peerId }, 'switchover: no more updates; waiting for the standby to acknowledge everything');
      this.d.admission.setAccepting(false, 'switching over');
      // Updates admitted before the door closed still get their turn (deferred).
      await new Promise<void>((resolve) => o.defer(resolve));
      const target = processor.lastSeq;
      const acked = await pair.standbyAcked(target);
      if (this.d.role() !== 'primary') return { ok: false, error: `the node left the primary role while waiting (${this.d.role()})` };
      if (acked < target) {
        this.resume('the standby did not acknowledge everything in time');
        return { ok: false, error: `the standby acknowledged seq ${acked} of ${target} in time; still primary` };
      }
      const epoch = this.d.epochs.epoch;
      this.handingOver = true;
      pair.handOver(epoch, target);
      o.log.info({ lastSeq: target, standby: o.peerId }, 'switchover: handed over to the standby; following it once it has taken over');
      // A standby that never takes over (the HANDOVER lost) must not leave the pair without a primary.
      this.abortTimer = o.clock.setTimeout(() => this.resume('the standby did not take over'), 4 * pair.peerTimeoutMs + 10_000);
      return { ok: true, from: o.nodeId, to: pair.link.peerId, epoch, lastSeq: target };
    } finally {
      this.running = false;
    }
  }

  /** The node left the primary role (fenced by the new epoch, or stopping): the switchover is over. */
  leftPrimary(): void {
    this.handingOver = false;
    if (this.abortTimer !== null) this.d.o.clock.clearTimeout(this.abortTimer);
    this.abortTimer = null;
  }

  /** Serves again as the primary it still is. */
  private resume(why: string): void {
    this.leftPrimary();
    if (this.d.role() !== 'primary') return;
    this.d.o.log.warn({ why }, 'switchover abandoned: serving again');
    this.d.serving.serve('standby', `switchover abandoned: ${why}`);
  }
}
