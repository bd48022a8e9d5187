/**
 * What a snapshot costs to load at scale, without NATS or a log: builds N accounts with
 * K credits each (so N x K remembered ids, the dedupe window a busy node holds), encodes
 * the snapshot, then loads it into a fresh Processor as a node does (loadSnapshotSliced),
 * once with no pauses (the CPU) and once with a timer between slices (the wall time a
 * start or an install takes), reporting the longest slice.
 * Run: npx tsx tools/bench/snapshot-load.ts [--assets 1000000] [--ids-per-asset 5]
 */
import { parseArgs } from 'node:util';
import { encodeSnapshot, loadSnapshotSliced, Processor, type ReplySink } from '@txtest/actors';
import { getModel } from '@txtest/models';

const { values } = parseArgs({
  options: { assets: { type: 'string', default: '1000000' }, 'ids-per-asset': { type: 'string', default: '5' }, help: { type: 'boolean', default: false } },
});
if (values.help) {
  console.log('usage: npx tsx tools/bench/snapshot-load.ts [--assets N] [--ids-per-asset K]');
  process.exit(0);
}
const n = Number(values.assets);
const per = Number(values['ids-per-asset']);
if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--assets must be a positive integer, not "${values.assets}"`);
if (!Number.isSafeInteger(per) || per < 1) throw new Error(`--ids-per-asset must be a positive integer, not "${values['ids-per-asset']}"`);

const sink: ReplySink = { done: () => undefined, refused: () => undefined };

function processor(deferred: (() => void)[]): Processor {
  // A clock that moves 50 µs a request: every id stays inside the ten-minute window.
  let now = 1000;
  return new Processor({
    clock: { now: () => (now += 0.05), setTimeout: () => 0, clearTimeout: () => undefined },
    defer: (fn) => deferred.push(fn),
    getModel,
    onRecord: () => undefined,
    onEvent: () => undefined,
  });
}

const deferred: (() => void)[] = [];
const p = processor(deferred);
p.epoch = 1;
p.accepting = true;
let k = 0;
for (let round = 0; round < per; round++) {
  for (let i = 0; i < n; i++) {
    p.submit({ id: `id-${k++}-${'x'.repeat(12)}`, asset: `acct-${i}`, op: 'credit', args: { amount: 5 }, model: 'account' }, sink, 0);
    if (k % 1024 === 0) {
      while (deferred.length > 0) deferred.shift()!();
      p.release(k);
    }
  }
}
while (deferred.length > 0) deferred.shift()!();
p.release(k);
const body = Buffer.concat(await encodeSnapshot(p.beginSnapshot(), async () => undefined));
console.log(`snapshot of ${p.assetCount} accounts and ${p.dedupeSize} remembered ids: ${(body.length / 2 ** 20).toFixed(0)} MiB`);

for (const timer of [false, true]) {
  const q = processor([]);
  let slices = 0;
  let longest = 0;
  let sliceStart = performance.now();
  const pause = async () => {
    longest = Math.max(longest, performance.now() - sliceStart);
    slices++;
    if (timer) await new Promise((r) => setTimeout(r, 0));
    sliceStart = performance.now();
  };
  const t = performance.now();
  await loadSnapshotSliced(q, body, pause);
  longest = Math.max(longest, performance.now() - sliceStart);
  console.log(
    `load ${timer ? 'with a timer between slices' : 'without pauses'}: ${(performance.now() - t).toFixed(0)} ms, ${slices + 1} slices, the longest ${longest.toFixed(1)} ms`,
  );
}
