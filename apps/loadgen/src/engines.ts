/**
 * The engines of a run, whether in the main thread or in worker threads, behind one
 * face: create (connections up), go (all on one start time), stop (finals). The
 * clients and the in-flight window (or rate) are split as evenly as they go.
 */
import { Worker } from 'node:worker_threads';
import type { LoadgenArgs } from './args';
import { Engine, type EngineConfig, type EngineEvent, type EngineFinal } from './engine';

export interface EngineHandle {
  go(startMs: number): void;
  stop(): Promise<EngineFinal>;
  /** Ends a worker thread at once (after a failure). */
  terminate(): void;
}

/** Splits `total` into `parts` integers (or reals) that add up to it, larger ones first. */
export function split(total: number, parts: number, integer: boolean): number[] {
  if (!integer) return Array.from({ length: parts }, () => total / parts);
  const base = Math.floor(total / parts);
  return Array.from({ length: parts }, (_, i) => base + (i < total % parts ? 1 : 0));
}

export function engineConfigs(a: LoadgenArgs): EngineConfig[] {
  const threads = Math.max(1, a.workers);
  const perClient = a.inFlight !== null ? split(a.inFlight, a.clients, true) : split(a.ratePerS!, a.clients, false);
  const clientsPer = split(a.clients, threads, true);
  let next = 0;
  return clientsPer.map((n, engineIndex) => {
    const mine = perClient.slice(next, next + n);
    next += n;
    return {
      engineIndex,
      nats: { ...a.nats },
      prefix: a.prefix,
      cluster: a.cluster,
      shards: a.shards,
      windows: a.inFlight !== null ? mine : null,
      rates: a.ratePerS !== null ? mine : null,
      batch: a.batch,
      workload: a.workload,
      assets: a.assets,
      instruments: a.instruments,
      zipfS: a.zipfS,
      assetPrefix: a.assetPrefix,
      seed: a.seed,
      attemptTimeoutMs: a.attemptTimeoutMs,
      deadlineMs: a.deadlineMs,
      backoffInitialMs: a.backoffInitialMs,
      backoffMaxMs: a.backoffMaxMs,
      intervalMs: a.intervalMs,
      audit: a.audit,
    };
  });
}

function inline(cfg: EngineConfig, onEvent: (e: EngineEvent) => void): Promise<EngineHandle> {
  return Engine.create(cfg, onEvent).then((e) => ({ go: (t) => e.go(t), stop: () => e.stop(), terminate: () => undefined }));
}

function threaded(cfg: EngineConfig, onEvent: (e: EngineEvent) => void): Promise<EngineHandle> {
  const w = new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: cfg });
  let finalWaiter: { resolve: (f: EngineFinal) => void; reject: (e: Error) => void } | null = null;
  return new Promise<EngineHandle>((resolve, reject) => {
    const fail = (err: Error) => {
      if (finalWaiter !== null) finalWaiter.reject(err);
      else reject(err);
    };
    w.on('message', (m: { type: string; event?: EngineEvent; final?: EngineFinal; message?: string }) => {
      if (m.type === 'event') onEvent(m.event!);
      else if (m.type === 'final') finalWaiter?.resolve(m.final!);
      else if (m.type === 'error') fail(new Error(`worker ${cfg.engineIndex}: ${m.message}`));
      else if (m.type === 'ready')
        resolve({
          go: (startMs) => w.postMessage({ type: 'go', startMs }),
          stop: () =>
            new Promise<EngineFinal>((res, rej) => {
              finalWaiter = { resolve: res, reject: rej };
              w.postMessage({ type: 'stop' });
            }),
          terminate: () => void w.terminate(),
        });
    });
    w.on('error', fail);
    w.on('exit', (code) => {
      if (code !== 0) fail(new Error(`worker ${cfg.engineIndex} exited with code ${code}`));
    });
  });
}

export async function startEngines(a: LoadgenArgs, onEvent: (e: EngineEvent) => void): Promise<EngineHandle[]> {
  const cfgs = engineConfigs(a);
  const made = await Promise.allSettled(cfgs.map((c) => (a.workers === 0 ? inline(c, onEvent) : threaded(c, onEvent))));
  const failed = made.find((m) => m.status === 'rejected');
  if (failed !== undefined) {
    for (const m of made) if (m.status === 'fulfilled') m.value.terminate();
    throw (failed as PromiseRejectedResult).reason;
  }
  return made.map((m) => (m as PromiseFulfilledResult<EngineHandle>).value);
}
