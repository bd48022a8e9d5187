/**
 * The fsync policy. The reply gate opens on the local log write (`never` and interval
 * policies, where a process crash cannot lose what the kernel has) or on fsync (`always`).
 */
import type { Clock, TimerHandle } from '@txtest/actors';

export type FsyncPolicy = { kind: 'always' } | { kind: 'never' } | { kind: 'interval'; ms: number };

export function describeFsync(p: FsyncPolicy): string {
  return p.kind === 'interval' ? `${p.ms}ms` : p.kind;
}

export interface Syncable {
  /** Syncs what is written; concurrent calls share one fdatasync (LogWriter does this). */
  sync(): Promise<void>;
}

/**
 * Decides when the log is synced: after every written group (`always`), on the
 * injected clock (`<N>ms`), or never. Coalescing and the synced watermark are the log
 * writer's own (its `onSynced`); this class only says when.
 */
export class SyncPolicy {
  private timer: TimerHandle | null = null;
  private stopped = false;

  constructor(
    private readonly policy: FsyncPolicy,
    private readonly log: Syncable,
    private readonly clock: Clock,
    private readonly onError: (err: unknown) => void,
  ) {
    if (policy.kind === 'interval') this.arm(policy.ms);
  }

  /** With `always`, the gate opens on the sync, not on the write. */
  get gateOnSync(): boolean {
    return this.policy.kind === 'always';
  }

  /** The log has written a group. */
  onWritten(): void {
    if (this.policy.kind === 'always') this.syncNow();
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.syncNow();
      this.arm(ms);
    }, ms);
  }

  private syncNow(): void {
    this.log.sync().catch((err: unknown) => this.onError(err));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
