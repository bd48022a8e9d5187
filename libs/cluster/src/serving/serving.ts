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
  /** Members this node puts in each client subject's queue group while it serves alone (see `serve`). */
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
    // A queue group keeps a stray second subscriber from doubling work; the epoch rules
    // keep it from acking. A SIGKILLed primary's members linger until the kernel has
    // freed its memory (100-200 ms at a million accounts), and the server hands each
    // request to a member at random, so while they do, they take their share of the
    // clients' retries. A node that begins to serve alone (a failover) therefore brings
    // `queueMembers` members, and keeps one once a standby attaches: the primary that
    // may die next has one, against the many of the node that takes over. (A plain
    // subscription, so that this node got every request, made failover gaps longer:
    // docs/BENCHMARKS.md, "Failover gaps: the client's retries".)
    const members = mode === 'local' ? d.queueMembers : 1;
    if (this.clientSubs.length === 0) {
      for (let i = 0; i < members; i++) {
        this.clientSubs.push(d.transport.subscribe(d.subjects.tx, d.door.onTx, { queue: 'txtest' }));
        this.clientSubs.push(d.transport.subscribe(d.subjects.query, d.door.onQuery, { queue: 'txtest' }));
      }
    } else if (mode === 'standby') {
      // Drained, not unsubscribed: requests the server already routed to them are served.
      for (const s of this.clientSubs.splice(2)) {
        if (s.drain) s.drain();
        else s.unsubscribe();
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
