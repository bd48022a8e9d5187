/**
 * Where a node's bytes go at scale, without NATS or a log: builds N accounts (one credit
 * each, so N remembered ids too) or N order books in a Processor directly, then reports
 * the V8 heap, off-heap buffers and RSS per asset after a full GC. Requests go through
 * MessagePack in batches of 1,024, as they reach a node, so the strings kept are shaped
 * (and allocated) as in a node.
 * Run: node --expose-gc --import tsx tools/bench/processor-memory.ts [--assets 1000000] [--model account|orderbook]
 */
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { Processor, type ReplySink } from '@txtest/actors';
import { getModel } from '@txtest/models';
import { packMsgpack, unpackMsgpack, type UpdateRequest } from '@txtest/protocol';

const { values } = parseArgs({
  options: { assets: { type: 'string', default: '1000000' }, model: { type: 'string', default: 'account' }, help: { type: 'boolean', default: false } },
});
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
  // `external` includes the ArrayBuffers (typed-array columns, slabs).
  return { rss: m.rss, heap: getHeapStatistics().used_heap_size, external: m.external };
}

const sink: ReplySink = {
  done() {},
  refused(_i, r) {
    throw new Error(`refused: ${r.error.message}`);
  },
};
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
const BATCH = 1024;
for (let from = 0; from < n; from += BATCH) {
  const batch: UpdateRequest[] = [];
  for (let i = from; i < Math.min(n, from + BATCH); i++) {
    // Ids shaped like TxClient's (a random prefix and a counter), names like the scale tool's.
    const id = `Xq3vR9sLk2Pw-${i.toString(36)}`;
    if (values.model === 'account') batch.push({ id, asset: `acct-${i}`, op: 'credit', args: { amount: 1 + (i % 100) }, model: 'account' });
    else
      batch.push({
        id,
        asset: `book-${i}`,
        op: 'place',
        args: { orderId: `o-${i}`, side: i % 2 ? 'buy' : 'sell', price: 100 + (i % 50), qty: 1 + (i % 9) },
        model: 'orderbook',
      });
  }
  for (const req of unpackMsgpack(packMsgpack(batch)) as UpdateRequest[]) p.submit(req, sink, 0);
  p.release(p.lastSeq);
}
const built = performance.now() - t0;
const after = mem();
const per = (b: number) => ((b - 0) / n).toFixed(0);
console.log(`${n} ${values.model} assets, ${p.dedupeSize} remembered ids, built in ${built.toFixed(0)} ms`);
console.log(`heap    ${(after.heap / 2 ** 20).toFixed(1)} MiB  ${per(after.heap - before.heap)} B/asset`);
console.log(`offheap ${(after.external / 2 ** 20).toFixed(1)} MiB  ${per(after.external - before.external)} B/asset`);
console.log(`rss     ${(after.rss / 2 ** 20).toFixed(1)} MiB  ${per(after.rss - before.rss)} B/asset (growth)`);
