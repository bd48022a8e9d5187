/**
 * The arbiter (a JetStream KV key in production) as one value with a revision, changed
 * only by compare-and-set. It lives on the simulated server: a node that cannot reach
 * the server (isolated, or a NATS outage) gets an error after a timeout, and a CAS whose
 * answer is lost on the way back has still been applied (the node sees a timeout).
 */
import type { Arbiter, ArbiterRead, ArbiterValue, CasResult } from '@txtest/cluster';
import type { SimNetwork } from './network';
import type { Rng } from './prng';
import type { Owner, Scheduler } from './scheduler';

export class ArbiterStore {
  value: ArbiterValue | null = null;
  revision = 0;
}

const TIMEOUT_MS = 50;

export class SimArbiter implements Arbiter {
  constructor(
    private readonly store: ArbiterStore,
    private readonly net: SimNetwork,
    private readonly sched: Scheduler,
    private readonly rng: Rng,
    private readonly host: string,
    private readonly owner: Owner,
    /** Chance that the answer to a request is lost after the server acted on it. */
    private readonly lossP: () => number,
  ) {}

  private call<T>(label: string, act: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!this.owner.alive) return;
      const fail = () => this.sched.after(TIMEOUT_MS, () => reject(new Error(`arbiter ${label}: timeout`)), this.owner, `arbiter-timeout ${this.host}`);
      if (!this.net.reachable(this.host)) return void fail();
      // Reaches the server after one latency; the answer comes back after another.
      this.sched.after(
        this.net.latency(),
        () => {
          if (!this.net.reachable(this.host)) return void fail();
          const result = act();
          if (this.rng.chance(this.lossP())) return void fail();
          this.sched.after(this.net.latency(), () => resolve(result), this.owner, `arbiter-reply ${this.host} ${label}`);
        },
        null,
        `arbiter ${this.host} ${label}`,
      );
    });
  }

  read(): Promise<ArbiterRead> {
    return this.call('read', () => ({ value: this.store.value === null ? null : { ...this.store.value }, revision: this.store.revision }));
  }

  compareAndSet(revision: number, value: ArbiterValue): Promise<CasResult> {
    return this.call(`cas ${revision} ${value.epoch} ${value.primary}`, (): CasResult => {
      if (this.store.revision !== revision) {
        return { ok: false, current: { value: this.store.value === null ? null : { ...this.store.value }, revision: this.store.revision } };
      }
      this.store.revision++;
      this.store.value = { ...value };
      this.sched.trace(`arbiter: epoch ${value.epoch} -> ${value.primary} (rev ${this.store.revision})`);
      return { ok: true, revision: this.store.revision };
    });
  }

  async close(): Promise<void> {}
}
