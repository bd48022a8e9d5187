/**
 * A simulated client: a closed loop of account updates (mostly credits, some debits
 * that may be refused, now and then a batch) sent with the real wire format to the
 * cluster's tx subject, as TxClient does: one inbox per client, a correlation id per
 * attempt, an attempt timeout, and retries with the same id (and back-off) on timeout,
 * "no responders", NOT_PRIMARY and OVERLOADED. It never gives up: at the end of a run
 * every request it made must have been answered (liveness). Every answer is recorded
 * for the checker.
 */
import { decodeBody, encodeBody } from '@txtest/protocol';
import type { Endpoint, SimNetwork } from './network';
import type { Rng } from './prng';
import type { Scheduler } from './scheduler';
import { SUBJECTS } from './node';

export interface ClientRequest {
  id: string;
  asset: string;
  op: 'credit' | 'debit';
  amount: number;
  attempts: number;
  /** The answer, once one came: ok, or refused (REJECTED) with seq and epoch. */
  answer: { ok: boolean; seq: number; epoch: number; version: number; balance: number | null } | null;
}

export interface ClientHooks {
  /** A reply the protocol says must not happen for these requests (BAD_REQUEST, ID_CONFLICT, ...). */
  onBadReply(client: SimClient, req: ClientRequest, code: string): void;
}

const ATTEMPT_MS = 250;
const RETRYABLE = new Set(['NOT_PRIMARY', 'OVERLOADED']);

export class SimClient {
  readonly ep: Endpoint;
  readonly requests: ClientRequest[] = [];
  private current: ClientRequest[] = [];
  private corr = 0;
  /** Which requests each attempt (correlation id) carried. */
  private readonly attempts = new Map<number, ClientRequest[]>();
  private timer: ReturnType<Scheduler['after']> | null = null;
  private backoffMs = 5;
  /** Stop starting new requests (the ones in flight still finish). */
  stopping = false;
  private nextN = 0;

  constructor(
    readonly id: string,
    private readonly net: SimNetwork,
    private readonly sched: Scheduler,
    private readonly rng: Rng,
    private readonly assets: readonly string[],
    private readonly thinkMeanMs: number,
    private readonly hooks: ClientHooks,
  ) {
    const owner = { alive: true, pausedUntil: 0 };
    this.ep = { name: id, host: id, owner };
    net.subscribe(this.ep, `_INBOX.${id}.>`, (data, _r, _j, subject, _from, noResp) => this.onReply(data, subject, noResp));
  }

  get idle(): boolean {
    return this.current.length === 0;
  }

  start(delayMs: number): void {
    this.sched.after(delayMs, () => this.next(), null, `client ${this.id} start`);
  }

  /** Sends one more request after the current ones are answered (the final liveness probe). */
  probe(): void {
    this.stopping = false;
    this.next();
    this.stopping = true;
  }

  private next(): void {
    if (this.stopping || this.current.length > 0) return;
    const count = this.rng.chance(0.15) ? this.rng.int(2, 3) : 1;
    for (let i = 0; i < count; i++) {
      const debit = this.rng.chance(0.15);
      const req: ClientRequest = {
        id: `${this.id}-${++this.nextN}`,
        asset: this.rng.pick(this.assets),
        op: debit ? 'debit' : 'credit',
        amount: this.rng.int(1, debit ? 300 : 100),
        attempts: 0,
        answer: null,
      };
      this.requests.push(req);
      this.current.push(req);
    }
    this.backoffMs = 5;
    this.send();
  }

  private send(): void {
    const reqs = this.current.filter((r) => r.answer === null);
    if (reqs.length === 0) {
      this.maybeDone();
      return;
    }
    const corr = ++this.corr;
    this.attempts.set(corr, reqs);
    const bodies = reqs.map((r) => {
      r.attempts++;
      return { id: r.id, asset: r.asset, op: r.op, args: { amount: r.amount }, model: 'account' };
    });
    const body = bodies.length === 1 ? bodies[0] : { batch: bodies };
    if (this.timer !== null) this.sched.cancel(this.timer);
    this.timer = this.sched.after(ATTEMPT_MS, () => this.retry('timeout'), null, `client ${this.id} timeout ${corr}`);
    this.net.publish(this.ep, SUBJECTS.tx, encodeBody(body, 'msgpack'), `_INBOX.${this.id}.${corr}`, false);
  }

  private retry(why: string): void {
    if (this.timer !== null) this.sched.cancel(this.timer);
    this.timer = null;
    const wait = this.backoffMs * (0.5 + this.rng.float());
    this.backoffMs = Math.min(100, this.backoffMs * 2);
    this.sched.trace(`${this.id}: retry in ${wait.toFixed(2)} ms (${why})`);
    this.timer = this.sched.after(wait, () => this.send(), null, `client ${this.id} retry`);
  }

  private onReply(data: Uint8Array, subject: string, noResp: boolean): void {
    const corr = Number(subject.slice(subject.lastIndexOf('.') + 1));
    const reqs = this.attempts.get(corr);
    if (reqs === undefined) return;
    const live = corr === this.corr;
    if (noResp) {
      if (live) this.retry('no responders');
      return;
    }
    const d = decodeBody(data, 'msgpack');
    if (!d.ok) throw new Error(`client ${this.id}: undecodable reply`);
    const v = d.value as { batch?: unknown[] };
    const entries = reqs.length === 1 ? [v] : (v.batch ?? []);
    let again = false;
    for (let i = 0; i < reqs.length; i++) {
      const req = reqs[i]!;
      const e = entries[i] as
        { ok: boolean; seq?: number; epoch?: number; version?: number; result?: { balance: number }; error?: { code: string } } | undefined;
      if (e === undefined) continue;
      if (e.ok || e.error?.code === 'REJECTED') {
        const answer = { ok: e.ok, seq: e.seq!, epoch: e.epoch!, version: e.version!, balance: e.ok ? e.result!.balance : null };
        // The first answer counts; that a late one to an earlier attempt is the same reply,
        // field for field, the checker verifies on every reply it observes (applied-twice).
        if (req.answer === null) req.answer = answer;
      } else if (RETRYABLE.has(e.error?.code ?? '')) again = true;
      else this.hooks.onBadReply(this, req, e.error?.code ?? 'none');
    }
    if (this.maybeDone()) return;
    if (live && again) this.retry('not primary');
  }

  private maybeDone(): boolean {
    if (this.current.length === 0 || !this.current.every((r) => r.answer !== null)) return false;
    if (this.timer !== null) this.sched.cancel(this.timer);
    this.timer = null;
    this.current = [];
    if (!this.stopping) this.sched.after(this.rng.exp(this.thinkMeanMs), () => this.next(), null, `client ${this.id} think`);
    return true;
  }
}
