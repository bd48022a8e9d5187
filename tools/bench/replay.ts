/**
 * Replay time of a large log: writes N account-credit records over 10,000 assets into
 * a fresh data dir (the same frames the primary writes), then starts a TxNode on it
 * and reports how long recovery (read, CRC check, decode, apply, dedupe) took.
 * Run: npx tsx tools/bench/replay.ts [records=1000000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getModel } from '@txtest/models';
import { TxNode, type Transport } from '@txtest/cluster';
import { FRAME_OVERHEAD_BYTES, LogWriter, sealFrame } from '@txtest/journal';
import { MsgWriter, subjects, writeRecord } from '@txtest/protocol';
import { FsEpochStorage, FsLogStorage } from '@txtest/storage-fs';

const n = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'txtest-replay-'));
const storage = new FsLogStorage(join(dir, 'log'));
let written = 0;
const writer = new LogWriter({
  storage,
  defer: (f) => void setImmediate(f),
  lastSeq: 0,
  lastEpoch: 0,
  onWritten: (s) => (written = s),
  onError: (e) => {
    throw e;
  },
});
const w = new MsgWriter();
const t0 = performance.now();
for (let seq = 1; seq <= n; seq++) {
  w.reserve(FRAME_OVERHEAD_BYTES);
  writeRecord(w, 1_700_000_000_000 + seq, `client-${seq.toString(36)}`, `acct-${seq % 10_000}`, 'account', 'credit', { amount: 1 + (seq % 100) });
  writer.append(sealFrame(w.take(), 1, seq));
  if (seq % 10_000 === 0) await writer.idle();
}
await writer.idle();
await writer.sync();
await writer.close();
console.log(`wrote ${written} records in ${(performance.now() - t0).toFixed(0)} ms`);

const nop: Transport = {
  subscribe: () => ({ unsubscribe() {} }),
  publish() {},
  request: () => Promise.reject(new Error('none')),
  flush: () => Promise.resolve(),
};
let recoveredMs = -1;
const log = {
  debug() {},
  info(o: { ms?: number }, m?: string) {
    if (m === 'recovered from the log') recoveredMs = o.ms ?? -1;
  },
  warn() {},
  error() {},
};
const node = new TxNode({
  nodeId: 'r1',
  peerId: null,
  subjects: subjects(),
  transport: nop,
  clock: { now: () => performance.now(), setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
  defer: queueMicrotask,
  logStorage: storage,
  epochStorage: new FsEpochStorage(dir),
  log,
  getModel,
  fsync: { kind: 'never' },
  bodyBytesMax: 65536,
  snapshotEveryRecords: 0,
  segmentBytesMax: 64 << 20,
  repairLog: false,
  statusExtras: () => ({ pid: process.pid, http: '' }),
});
const t1 = performance.now();
await node.start();
console.log(
  `replayed ${node.processor.lastSeq} records (${node.processor.assetCount} assets, ${node.processor.dedupeSize} remembered ids) in ${recoveredMs.toFixed(0)} ms; start total ${(performance.now() - t1).toFixed(0)} ms`,
);
await node.stop();
rmSync(dir, { recursive: true, force: true });
