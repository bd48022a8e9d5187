/**
 * A rejoin storm on purpose, and what it costs: the first JOIN seen on a primary's node
 * subject is published again every few milliseconds, byte for byte, as a joiner whose
 * stream looks silent repeats it; and a process's resident memory, read from /proc.
 */
import { readFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/nats-core';
import { NodeKind } from '@txtest/protocol';

export interface JoinStorm {
  /** JOINs replayed so far. */
  readonly replays: number;
  stop(): void;
}

/** Replays the first JOIN sent to `subject` (a node's `P.C._node.<id>`) every `everyMs` until stopped. */
export function joinStorm(nc: NatsConnection, subject: string, everyMs = 5): JoinStorm {
  let join: Uint8Array | null = null;
  let replays = 0;
  const sub = nc.subscribe(subject, {
    callback: (_err, m) => {
      if (m.data[0] === NodeKind.JOIN && join === null) join = m.data.slice();
    },
  });
  const timer = setInterval(() => {
    if (join === null) return;
    nc.publish(subject, join);
    replays++;
  }, everyMs);
  return {
    get replays() {
      return replays;
    },
    stop() {
      clearInterval(timer);
      sub.unsubscribe();
    },
  };
}

/** Resident memory of process `pid`, in bytes (Linux). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`/proc/${pid}/status has no VmRSS line`);
  return Number(m[1]) * 1024;
}
