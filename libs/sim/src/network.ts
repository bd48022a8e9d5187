/**
 * The simulated NATS: subjects with exact or `prefix.>` matching, queue groups (one
 * member gets each message), "no responders" for a request nobody listens to, and a
 * seeded network between every pair of endpoints: latency with a long tail, FIFO per
 * (sender, receiver) unless a message is picked for reordering, drops, duplicates,
 * one-way and two-way partitions, a node cut off from the server, and a whole NATS
 * outage. Routing is decided when the message is published (when the server would
 * get it, give or take its latency); delivery checks again that the subscription is
 * still there and its owner alive.
 */
import { NO_RESPONDERS, type MessageHandler, type PublishOptions, type Subscription, type Transport } from '@txtest/cluster';
import type { Rng } from './prng';
import type { Owner, Scheduler } from './scheduler';

export interface NetConfig {
  /** Mean of the exponential part of a one-way latency, in ms (on top of latencyMinMs). */
  latencyMeanMs: number;
  latencyMinMs: number;
  /** Chance that a message takes a slow path (x20 latency). */
  slowP: number;
  dropP: number;
  dupP: number;
  reorderP: number;
}

const KINDS = ['', 'HELLO', 'HEARTBEAT', 'REPLICATE', 'ACK', 'RESEND', 'JOIN', 'SNAPSHOT', 'HANDOVER'];

export const CALM_NET: NetConfig = { latencyMeanMs: 0.25, latencyMinMs: 0.05, slowP: 0, dropP: 0, dupP: 0, reorderP: 0 };

/** A connection to the simulated server: a node's incarnation or a client. */
export interface Endpoint {
  name: string;
  /** The machine it runs on (partitions are between machines): 'n1', 'n2', 'c1'... */
  host: string;
  owner: Owner;
}

/** What a raw (non-Transport) subscriber learns: who sent it, and whether it is NATS's "no responders". */
export type RawHandler = (data: Uint8Array, reply: string, json: boolean, subject: string, from: Endpoint, noResponders: boolean) => void;

interface Sub {
  ep: Endpoint;
  subject: string;
  prefix: string | null;
  queue: string | undefined;
  handler: RawHandler;
  active: boolean;
}

export interface PublishObserver {
  (from: Endpoint, subject: string, data: Uint8Array): void;
}

export class SimNetwork {
  cfg: NetConfig = CALM_NET;
  /** Blocked directions between hosts, as "a>b". */
  readonly blocked = new Set<string>();
  /** Hosts cut off from the server altogether. */
  readonly isolated = new Set<string>();
  outage = false;
  private readonly subs: Sub[] = [];
  private readonly fifo = new Map<string, number>();
  observer: PublishObserver | null = null;

  constructor(
    private readonly sched: Scheduler,
    private readonly rng: Rng,
  ) {}

  /** Whether `host` can reach the server (and the arbiter on it) right now. */
  reachable(host: string): boolean {
    return !this.outage && !this.isolated.has(host);
  }

  latency(): number {
    const c = this.cfg;
    let ms = c.latencyMinMs + this.rng.exp(c.latencyMeanMs);
    if (this.rng.chance(c.slowP)) ms *= 20;
    return ms;
  }

  subscribe(ep: Endpoint, subject: string, handler: RawHandler, queue?: string): Subscription {
    const sub: Sub = { ep, subject, prefix: subject.endsWith('.>') ? subject.slice(0, -1) : null, queue, handler, active: true };
    this.subs.push(sub);
    return {
      unsubscribe: () => {
        if (!sub.active) return;
        sub.active = false;
        const i = this.subs.indexOf(sub);
        if (i >= 0) this.subs.splice(i, 1);
      },
    };
  }

  /** Drops every subscription of an endpoint (its process died). */
  disconnect(ep: Endpoint): void {
    for (let i = this.subs.length - 1; i >= 0; i--) {
      if (this.subs[i]!.ep === ep) {
        this.subs[i]!.active = false;
        this.subs.splice(i, 1);
      }
    }
  }

  publish(from: Endpoint, subject: string, data: Uint8Array, reply: string, json: boolean): void {
    if (!from.owner.alive) return;
    const bytes = data.slice();
    this.observer?.(from, subject, bytes);
    if (!this.reachable(from.host)) {
      return;
    }
    const targets: Sub[] = [];
    const groups = new Map<string, Sub[]>();
    for (const s of this.subs) {
      if (!(s.prefix === null ? s.subject === subject : subject.startsWith(s.prefix))) continue;
      if (s.queue === undefined) targets.push(s);
      else {
        let g = groups.get(s.queue);
        if (g === undefined) groups.set(s.queue, (g = []));
        g.push(s);
      }
    }
    for (const g of groups.values()) targets.push(g.length === 1 ? g[0]! : this.rng.pick(g));
    if (targets.length === 0) {
      // NATS answers a request nobody listens to with a "no responders" status at once.
      if (reply !== '') this.noResponders(from, reply);
      return;
    }
    for (const t of targets) this.send(from, t, subject, bytes, reply, json, false);
  }

  private noResponders(from: Endpoint, reply: string): void {
    const back = this.subs.filter((s) => (s.prefix === null ? s.subject === reply : reply.startsWith(s.prefix)));
    for (const t of back) this.send(from, t, reply, new Uint8Array(0), '', false, true);
  }

  private send(from: Endpoint, to: Sub, subject: string, data: Uint8Array, reply: string, json: boolean, noResp: boolean): void {
    const c = this.cfg;
    if (this.blocked.has(`${from.host}>${to.ep.host}`) || this.isolated.has(to.ep.host) || this.rng.chance(c.dropP)) {
      return;
    }
    const copies = this.rng.chance(c.dupP) ? 2 : 1;
    for (let k = 0; k < copies; k++) {
      let t = this.sched.now + this.latency();
      const link = `${from.name}>${to.ep.name}`;
      if (this.rng.chance(c.reorderP)) t += this.rng.exp(2);
      else {
        // NATS keeps one publisher's messages in order for each subscriber.
        const last = this.fifo.get(link) ?? 0;
        if (t <= last) t = last + 0.001;
        this.fifo.set(link, t);
      }
      this.sched.at(
        t,
        () => {
          if (!to.active || !this.reachable(to.ep.host) || this.blocked.has(`${from.host}>${to.ep.host}`)) {
            return;
          }
          to.handler(data, reply, json, subject, from, noResp);
        },
        to.ep.owner,
        `d ${from.name}>${to.ep.name} ${subject} ${data.length}${subject.includes('._node.') ? ` ${KINDS[data[0]!] ?? '?'}` : ''}`,
      );
    }
  }
}

/** The core's Transport over the simulated network, for one endpoint. */
export class SimTransport implements Transport {
  private inboxSeq = 0;

  constructor(
    private readonly net: SimNetwork,
    private readonly sched: Scheduler,
    readonly ep: Endpoint,
  ) {}

  subscribe(subject: string, handler: MessageHandler, opts?: { queue?: string }): Subscription {
    if (!this.ep.owner.alive) return { unsubscribe: () => undefined };
    return this.net.subscribe(this.ep, subject, (data, reply, json, subj) => handler(data, reply, json, subj), opts?.queue);
  }

  publish(subject: string, data: Uint8Array, opts?: PublishOptions): void {
    this.net.publish(this.ep, subject, data, opts?.reply ?? '', opts?.json === true);
  }

  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const inbox = `_INBOX.${this.ep.name}.r${++this.inboxSeq}`;
      let done = false;
      const sub = this.net.subscribe(this.ep, inbox, (d, _r, _j, _s, _f, noResp) => {
        if (done) return;
        done = true;
        sub.unsubscribe();
        this.sched.cancel(timer);
        if (noResp) reject(Object.assign(new Error('no responders'), { code: NO_RESPONDERS }));
        else resolve(d);
      });
      const timer = this.sched.after(
        timeoutMs,
        () => {
          if (done) return;
          done = true;
          sub.unsubscribe();
          reject(Object.assign(new Error('timeout'), { code: 'TIMEOUT' }));
        },
        this.ep.owner,
        `request-timeout ${this.ep.name}`,
      );
      this.net.publish(this.ep, subject, data, inbox, false);
    });
  }

  flush(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.ep.owner.alive) return;
      this.sched.after(2 * this.net.latency(), resolve, this.ep.owner, `flush ${this.ep.name}`);
    });
  }
}
