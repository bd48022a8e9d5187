/**
 * Microbenchmark of the node's own CPU cost per update, without NATS: batch messages
 * of 64 account credits go through ClientDoor -> Processor -> LogWriter (real files)
 * -> gate -> encoded replies and events into a counting transport.
 * Run: npx tsx tools/bench/node-path.ts [batchSize] [messages]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getModel } from '@txtest/models';
import { TxNode, type Transport } from '@txtest/cluster';
import { packMsgpack, subjects } from '@txtest/protocol';
import { FsEpochStorage, FsLogStorage } from '@txtest/storage-fs';

const batchSize = Number(process.argv[2] ?? 64);
const messages = Number(process.argv[3] ?? 20_000);
const dir = mkdtempSync(join(tmpdir(), 'txtest-bench-'));
let published = 0;
let replies = 0;
const handlers = new Map<string, (data: Uint8Array, reply: string, json: boolean, subject: string) => void>();
const transport: Transport = {
  subscribe: (subject, h) => {
    handlers.set(subject, h);
    return { unsubscribe: () => handlers.delete(subject) };
  },
  publish: (subject) => {
    published++;
    if (subject.startsWith('r.')) replies++;
  },
  request: () => Promise.reject(new Error('no')),
  flush: () => Promise.resolve(),
};
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const node = new TxNode({
  ...(process.env.SMALL_DEDUPE ? { dedupe: { countMin: 10000, retainMs: 0, countMax: 10000 } } : {}),
  nodeId: 'b1',
  peerId: null,
  subjects: subjects(),
  transport,
  clock: { now: () => Date.now(), setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
  defer: (fn) => void setImmediate(fn),
  logStorage: new FsLogStorage(join(dir, 'log')),
  epochStorage: new FsEpochStorage(dir),
  log: quiet,
  getModel,
  fsync: { kind: 'interval', ms: 5 },
  bodyBytesMax: 65536,
  snapshotEveryRecords: 0,
  segmentBytesMax: 64 << 20,
  repairLog: false,
  statusExtras: () => ({ pid: process.pid, http: '' }),
});
await node.start();
// The node subscribes to the client subject once its role machine reaches solo.
while (!handlers.has('txtest.default.tx')) await new Promise((r) => setTimeout(r, 1));
const tx = handlers.get('txtest.default.tx')!;
let id = 0;
const bodies: Uint8Array[] = [];
for (let m = 0; m < 200; m++) {
  const batch = [];
  for (let i = 0; i < batchSize; i++)
    batch.push({ id: `bench-${m}-${i}`, asset: `acct-${(m * batchSize + i) % 10000}`, op: 'credit', args: { amount: 1 }, model: 'account' });
  bodies.push(packMsgpack({ batch }));
}
// Fresh ids each run: rebuild the body each message would be unfair; instead vary ids with a prefix per round.
async function round(n: number): Promise<number> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let m = 0; m < n; m++) {
    const batch = [];
    for (let i = 0; i < batchSize; i++) batch.push({ id: `u${id++}`, asset: `acct-${id % 10000}`, op: 'credit', args: { amount: 1 }, model: 'account' });
    tx(packMsgpack(batchSize === 1 ? batch[0] : { batch }), `r.${m}`, false, 'txtest.default.tx');
    if (m % 16 === 15) await new Promise((r) => setImmediate(r));
  }
  while (replies < n) await new Promise((r) => setImmediate(r));
  const cpu = process.cpuUsage(cpu0);
  const ms = performance.now() - t0;
  const updates = n * batchSize;
  console.log(
    `${updates} updates in ${ms.toFixed(0)} ms: ${((updates / ms) * 1000).toFixed(0)}/s wall, cpu ${((cpu.user + cpu.system) / updates).toFixed(2)} us/update (user ${(cpu.user / updates).toFixed(2)}), publishes ${published}`,
  );
  replies = 0;
  published = 0;
  return ms;
}
await round(messages / 4);
await round(messages);
await node.stop();
rmSync(dir, { recursive: true, force: true });
void bodies;
