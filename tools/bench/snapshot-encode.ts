/**
 * What a snapshot costs to encode at scale, without NATS or a log: builds N accounts
 * (one credit each, so N remembered ids too) in a Processor directly, then encodes its
 * snapshot three times with no pauses (the CPU a node spends on one, spread over its
 * turns), and times the file's chunks (what one slice of the writer's work costs).
 * Run: npx tsx tools/bench/snapshot-encode.ts [--assets 1000000]
 */
import { parseArgs } from 'node:util';
import { encodeSnapshot, Processor, type ReplySink } from '@txtest/actors';
import { getModel } from '@txtest/models';
import { MsgWriter } from '@txtest/protocol';

const { values } = parseArgs({ options: { assets: { type: 'string', default: '1000000' }, help: { type: 'boolean', default: false } } });
if (values.help) {
  console.log('usage: npx tsx tools/bench/snapshot-encode.ts [--assets N]');
  process.exit(0);
}
const n = Number(values.assets);
if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--assets must be a positive integer, not "${values.assets}"`);

const sink: ReplySink = { done: () => undefined, refused: () => undefined };
const deferred: (() => void)[] = [];
let now = 1000;
const p = new Processor({
  clock: { now: () => (now += 1), setTimeout: () => 0, clearTimeout: () => undefined },
  defer: (fn) => deferred.push(fn),
  getModel,
  onRecord: () => undefined,
  onEvent: () => undefined,
});
p.epoch = 1;
p.accepting = true;
const settle = (upTo: number) => {
  while (deferred.length > 0) deferred.shift()!();
  p.release(upTo);
};
for (let i = 0; i < n; i++) {
  p.submit({ id: `id-${i}-${'x'.repeat(12)}`, asset: `acct-${i}`, op: 'credit', args: { amount: 5 }, model: 'account' }, sink, 0);
  if (i % 1024 === 1023) settle(i + 1);
}
settle(n);

for (let round = 1; round <= 3; round++) {
  const t = performance.now();
  const chunks = await encodeSnapshot(p.beginSnapshot(), async () => undefined);
  const bytes = chunks.reduce((s, c) => s + c.length, 0);
  console.log(`encode ${round}: ${(performance.now() - t).toFixed(0)} ms, ${(bytes / 2 ** 20).toFixed(1)} MiB (${n} accounts, ${n} ids)`);
}

// One chunk of the file at a time, as the writer produces them between its pauses.
const walk = p.beginSnapshot();
const w = new MsgWriter();
const took: number[] = [];
for (const kind of ['a', 'd'] as const) {
  for (;;) {
    const t = performance.now();
    w.arrayHeader(2);
    w.str(kind);
    const items = kind === 'a' ? walk.packAssets(1024, w) : walk.packDedupe(1024, w);
    w.take();
    if (items === 0) break;
    took.push(performance.now() - t);
  }
}
walk.end();
took.sort((a, b) => a - b);
const at = (q: number) => took[Math.min(took.length - 1, Math.floor(q * took.length))]!.toFixed(2);
console.log(`chunks of 1,024 items: ${took.length}; p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`);
