/**
 * Where a node's bytes go at scale, without NATS or a log: builds N accounts (one credit
 * each, so N remembered ids too) or N order books in a Processor directly, then reports
 * the V8 heap, off-heap buffers and RSS per asset after a full GC.
 * Run: node --expose-gc --import tsx tools/bench/processor-memory.ts [--assets 1000000] [--model account|orderbook]
 */
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { Processor, type ReplySink } from '@txtest/actors';
import { getModel } from '@txtest/models';

const { values } = parseArgs({ options: { assets: { type: 'string', default: '1000000' }, model: { type: 'string', default: 'account' }, help: { type: 'boolean', default: false } } });
if (values.help) {
  console.log('usage: node --expose-gc --import tsx tools/bench/processor-memory.ts [--assets N] [--model account|orderbook]');
  process.exit(0);
}
const n = Number(values.assets);
if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--assets must be a positive integer, got ${values.assets}`);
if (values.model !== 'account' && values.model !== 'orderbook') throw new Error(`--model must be account or orderbook, got ${values.model}`);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc so the figures are taken after a full collection');

function mem(): { rss: number; heap: number; external: number } {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: getHeapStatistics().used_heap_size, external: m.external + m.arrayBuffers };
}

const sink: ReplySink = { done() {}, refused(_i, r) { throw new Error(`refused: ${r.error.message}`); } };
const p = new Processor({
  clock: { now: () => Date.now(), setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
  // Synchronous: each submit takes its turn at once, so the script needs no event loop.
  defer: (fn) => fn(),
  getModel,
  onRecord() {},
  onEvent() {},
});
p.accepting = true;
const before = mem();
const t0 = performance.now();
for (let i = 0; i < n; i++) {
  // Ids and names shaped like the loadgen's, so string sizes are realistic.
  const id = `lg-1a2b3c-${i.toString(36)}`;
  if (values.model === 'account') {
    p.submit({ id, asset: `acct-${i}`, op: 'credit', args: { amount: 1 + (i % 100) }, model: 'account' }, sink, 0);
  } else {
    p.submit({ id, asset: `book-${i}`, op: 'place', args: { orderId: `o-${i}`, side: i % 2 ? 'buy' : 'sell', price: 100 + (i % 50), qty: 1 + (i % 9) }, model: 'orderbook' }, sink, 0);
  }
  if (i % 1024 === 1023) p.release(p.lastSeq);
}
p.release(p.lastSeq);
const built = performance.now() - t0;
const after = mem();
const per = (b: number) => ((b - 0) / n).toFixed(0);
console.log(`${n} ${values.model} assets, ${p.dedupeSize} remembered ids, built in ${built.toFixed(0)} ms`);
console.log(`heap    ${(after.heap / 2 ** 20).toFixed(1)} MiB  ${per(after.heap - before.heap)} B/asset`);
console.log(`offheap ${(after.external / 2 ** 20).toFixed(1)} MiB  ${per(after.external - before.external)} B/asset`);
console.log(`rss     ${(after.rss / 2 ** 20).toFixed(1)} MiB  ${per(after.rss - before.rss)} B/asset (growth)`);
