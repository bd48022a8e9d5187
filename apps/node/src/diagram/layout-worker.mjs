// Worker thread entry: lays out and renders the role diagram off the node's event loop
// (ELK is synchronous and takes seconds on a busy machine, longer than a peer timeout).
// Plain JavaScript, because a worker does not inherit the main thread's tsx hooks.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
try {
  const { roleDiagramSvg } = await import('./render-svg.ts');
  parentPort.postMessage({ ok: true, svg: await roleDiagramSvg() });
} catch (err) {
  parentPort.postMessage({ ok: false, error: String(err?.stack ?? err) });
}
