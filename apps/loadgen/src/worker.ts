/**
 * A worker thread: runs one Engine for its share of the clients. Messages:
 *
 *   main -> worker   { type: 'go', startMs }      start the drivers
 *                    { type: 'stop' }             stop, drain, settle the audit
 *   worker -> main   { type: 'ready' }            connections are up
 *                    { type: 'event', event }     an interval snapshot
 *                    { type: 'final', final }     after stop; the thread then exits
 *                    { type: 'error', message }
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Engine, type EngineConfig } from './engine';

export type ToWorker = { type: 'go'; startMs: number } | { type: 'stop' };

const port = parentPort!;
const cfg = workerData as EngineConfig;
try {
  const engine = await Engine.create(cfg, (event) => port.postMessage({ type: 'event', event }));
  port.on('message', (m: ToWorker) => {
    if (m.type === 'go') engine.go(m.startMs);
    else
      void engine.stop().then(
        (final) => {
          port.postMessage({ type: 'final', final });
          port.close();
        },
        (err: Error) => port.postMessage({ type: 'error', message: err.message }),
      );
  });
  port.postMessage({ type: 'ready' });
} catch (err) {
  port.postMessage({ type: 'error', message: (err as Error).message });
}
