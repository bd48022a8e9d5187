/**
 * Publishes each committed update on P.C.events.<asset>, after the replies of the same
 * release and a slice at a time, so that a release of many updates never holds the
 * event loop (and the heartbeat) for long.
 */
import { writeEventOf, type Clock, type DedupeEntry } from '@txtest/actors';
import { MsgWriter, type Subjects } from '@txtest/protocol';
import type { Transport } from '../transport';

/** Event subjects kept (see EventPublisher.subjectOf). */
const EVENT_SUBJECTS_CACHED = 16_384;
/** Events published per turn: the in-flight window of a busy client (1,024) twice over, a few milliseconds. */
const EVENTS_PER_SLICE = 2048;

export class EventPublisher {
  /**
   * Event subjects of recently updated assets, so that a busy asset's subject is built
   * once rather than once per update. Bounded: one entry per asset would cost a node
   * of a million assets about 90 bytes each, more than the asset itself.
   */
  private readonly subjectsOf = new Map<string, string>();
  /** Committed entries whose events are not published yet, in seq order. */
  private events: DedupeEntry[] = [];
  /** How many of `events` are published already (a long list goes out a slice per timer tick). */
  private eventsFrom = 0;

  /**
   * Events have a writer of their own: in the records' writer their bytes would sit
   * between the frames the replication ring keeps (8 MiB of them, as views), and each
   * kept slab would hold as many event bytes again, about 8 MiB per node for nothing.
   */
  private readonly w = new MsgWriter();

  constructor(
    private readonly transport: Transport,
    private readonly subjects: Subjects,
    private readonly clock: Clock,
  ) {}

  /** The processor's event hook: one committed update. */
  readonly push = (e: DedupeEntry): void => {
    // Events wait two microtasks: the replies of the same release queue their
    // NATS flush within it, so that flush (one socket write) runs before the events
    // are even encoded, and the clients' wait does not include them.
    if (this.events.length === 0) queueMicrotask(this.publishSoon);
    this.events.push(e);
  };

  private readonly publishSoon = () => queueMicrotask(this.publish);

  private readonly publish = () => {
    const events = this.events;
    // A release of many updates at once (a standby's catch-up, the backlog after a
    // pause) would otherwise publish them all in one go: tens of milliseconds that delay
    // the heartbeat, and then a bigger backlog the next time.
    const end = Math.min(events.length, this.eventsFrom + EVENTS_PER_SLICE);
    for (let i = this.eventsFrom; i < end; i++) {
      const e = events[i]!;
      writeEventOf(this.w, e);
      this.transport.publish(this.subjectOf(e.asset), this.w.take());
    }
    if (end < events.length) {
      this.eventsFrom = end;
      this.clock.setTimeout(this.publish, 0);
      return;
    }
    this.events = [];
    this.eventsFrom = 0;
  };

  private subjectOf(asset: string): string {
    let s = this.subjectsOf.get(asset);
    if (s === undefined) {
      s = this.subjects.events(asset);
      if (this.subjectsOf.size >= EVENT_SUBJECTS_CACHED) this.subjectsOf.clear();
      this.subjectsOf.set(asset, s);
    }
    return s;
  }
}
