/**
 * Whether this node serves clients: the tx and query subscriptions (the client door),
 * admission and the reply gate's mode, changed together as the role machine enters and
 * leaves the serving roles.
 */
import type { Processor } from '@txtest/actors';
import type { Subjects } from '@txtest/protocol';
import type { Subscription, Transport } from '../transport';
import type { Admission } from './admission';
import type { ClientDoor } from './client-door';
import type { ReplyGate } from './reply-gate';

export interface ServingDeps {
  transport: Transport;
  subjects: Subjects;
  /** Members this node puts in each client subject's queue group while it serves (see `serve`). */
  queueMembers: number;
  processor: Processor;
  door: ClientDoor;
  gate: ReplyGate;
  admission: Admission;
  /** The epoch a serving node stamps its turns with (its epoch record's). */
  epoch(): number;
  /** Whether the node failed (it admits nothing then). */
  failed(): boolean;
}

export class Serving {
  private clientSubs: Subscription[] = [];

  constructor(private readonly d: ServingDeps) {}

  /** The client door (its error counts are in the node's stats). */
  get door(): ClientDoor {
    return this.d.door;
  }

  serve(mode: 'local' | 'standby', reason: string): void {
    const { d } = this;
    d.gate.setMode(mode, reason);
    d.admission.setEpoch(d.epoch(), reason);
    d.admission.setAccepting(!d.failed(), d.failed() ? 'the log failed' : reason);
    if (this.clientSubs.length === 0) {
      // A queue group keeps a stray second subscriber from doubling work; the epoch rules
      // keep it from acking. A SIGKILLed primary's member lingers until the kernel has
      // freed its memory, and the server picks a member at random: with k members of this
      // node's, the dead one takes 1/(k+1) of the retries, not half. (A plain subscription,
      // so that this node got every request, made failover gaps longer: docs/BENCHMARKS.md,
      // "Failover gaps: the client's retries".)
      for (let i = 0; i < d.queueMembers; i++) {
        this.clientSubs.push(d.transport.subscribe(d.subjects.tx, d.door.onTx, { queue: 'txtest' }));
        this.clientSubs.push(d.transport.subscribe(d.subjects.query, d.door.onQuery, { queue: 'txtest' }));
      }
    }
    d.gate.release();
  }

  /** Between roles: keep what is pending (a new epoch may still confirm it) but release nothing. */
  hold(reason: string): void {
    this.d.gate.setMode('hold', reason);
  }

  /** Not serving any more: clients are refused, and what is pending is abandoned (they retry elsewhere). */
  unserve(reason: string): void {
    this.closeDoor();
    this.d.admission.setAccepting(false, reason);
    this.d.gate.setMode('hold', reason);
    this.d.processor.abandonPending();
  }

  /** Stops taking client messages (a stop lets what is pending out first). */
  closeDoor(): void {
    for (const s of this.clientSubs.splice(0)) s.unsubscribe();
  }
}
