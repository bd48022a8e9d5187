/**
 * The node's diagram, rendered once in a worker thread (layout-worker.mjs) and cached:
 * the event loop that runs heartbeats must never wait for ELK.
 */
import { Worker } from 'node:worker_threads';

let cached: Promise<string> | null = null;

export function roleDiagramSvgOffThread(): Promise<string> {
  cached ??= new Promise<string>((resolve, reject) => {
    const worker = new Worker(new URL('./layout-worker.mjs', import.meta.url));
    worker.unref();
    worker.once('message', (m: { ok: boolean; svg?: string; error?: string }) => {
      void worker.terminate();
      if (m.ok) resolve(m.svg!);
      else reject(new Error(`diagram layout failed: ${m.error}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`diagram worker exited with code ${code}`)));
  }).catch((err: Error) => {
    cached = null; // let the next request try again
    throw err;
  });
  return cached;
}
