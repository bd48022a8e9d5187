/**
 * Ties the log writer to the reply gate for a node that serves alone: the gate opens
 * on the local log write (`never` and interval policies, where a process crash cannot
 * lose what the kernel has) or on fsync (`always`). The interval policy syncs on the
 * injected clock; `always` syncs after every group, coalescing while a sync runs.
 */
import type { Clock, TimerHandle } from '@txtest/actors';

export type FsyncPolicy = { kind: 'always' } | { kind: 'never' } | { kind: 'interval'; ms: number };

export function describeFsync(p: FsyncPolicy): string {
  return p.kind === 'interval' ? `${p.ms}ms` : p.kind;
}

export interface Syncable {
  sync(): Promise<void>;
}

export class SyncPolicy {
  private syncing = false;
  private again = false;
  private timer: TimerHandle | null = null;
  private written = 0;
  private synced = 0;
  private stopped = false;
  /** Total fsync calls and their summed duration, for metrics. */
  syncs = 0;
  syncMsTotal = 0;

  constructor(
    private readonly policy: FsyncPolicy,
    private readonly log: Syncable,
    private readonly clock: Clock,
    private readonly onDurable: (seq: number) => void,
    private readonly onError: (err: unknown) => void,
  ) {
    if (policy.kind === 'interval') this.arm(policy.ms);
  }

  /** The log has written everything up to seq (not yet synced). */
  onWritten(seq: number): void {
    this.written = seq;
    if (this.policy.kind === 'always') this.syncNow();
    else this.onDurable(seq);
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      if (this.written > this.synced) this.syncNow();
      this.arm(ms);
    }, ms);
  }

  private syncNow(): void {
    if (this.syncing) {
      this.again = true;
      return;
    }
    this.syncing = true;
    const upTo = this.written;
    const t0 = this.clock.now();
    this.log.sync().then(
      () => {
        this.syncs++;
        this.syncMsTotal += this.clock.now() - t0;
        this.syncing = false;
        this.synced = upTo;
        if (this.policy.kind === 'always') this.onDurable(upTo);
        if (this.again) {
          this.again = false;
          if (this.written > this.synced) this.syncNow();
        }
      },
      (err) => {
        this.syncing = false;
        this.onError(err);
      },
    );
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
