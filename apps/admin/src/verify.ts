/**
 * `txtest-admin verify <data-dir>`: checks a stopped node's files with the journal's own
 * readers (every snapshot, loaded as a node loads it; every log segment from the oldest; the epoch
 * record) and changes nothing. Exit 0 when all are sound, 1 with a sentence naming the
 * file and byte offset of the first damage.
 */
import { loadSnapshotSliced } from '@txtest/actors';
import type { Command } from '@txtest/cli';
import { JournalCorruptError, JournalUsageError, SnapshotCorruptError, verifyLog, type LogCheck } from '@txtest/journal';
import { EpochFileError } from '@txtest/storage-fs';
import { openDataDir } from './data-dir';
import { offlineProcessor } from './offline-processor';

export const VERIFY_COMMAND: Command<readonly []> = {
  prog: 'txtest-admin verify',
  usage: ['<data-dir>'],
  about: [
    "Checks every log segment, snapshot and the epoch record of a stopped node's data directory.",
    'Exit 0 when all are sound; 1 with a sentence naming the file and byte offset of the first damage.',
  ],
  flags: [],
  positionals: { max: 1, names: 'a data directory' },
};

const MiB = 2 ** 20;

export async function verify(path: string | undefined, out: (line: string) => void): Promise<number> {
  const dir = openDataDir(path);
  const notes: string[] = [];
  let check: LogCheck;
  try {
    // Loaded by the node's own loader: what a start or an install would make of the body,
    // and at a full dedupe window (five million ids) without building it as values first.
    check = await verifyLog(
      dir.log,
      (m) => notes.push(m),
      async (name, body) => {
        try {
          await loadSnapshotSliced(offlineProcessor(), body, async () => undefined);
        } catch (err) {
          throw new SnapshotCorruptError(
            `snapshot ${name} is corrupt: its body (from byte offset 36) ${(err as Error).message.replace(/^snapshot body /, '')}`,
            name,
          );
        }
      },
    );
  } catch (err) {
    if (err instanceof JournalCorruptError || err instanceof SnapshotCorruptError || err instanceof JournalUsageError)
      return damaged(out, dir.path, (err as Error).message, notes);
    throw err;
  }
  let epochLine: string;
  try {
    const r = await dir.epochs.load();
    epochLine = r === null ? 'no epoch record (a node that never opened an epoch)' : `epoch ${r.epoch}, role ${r.role}, primary ${r.primary || 'unknown'}`;
  } catch (err) {
    if (err instanceof EpochFileError || err instanceof SyntaxError) return damaged(out, dir.path, (err as Error).message, notes);
    throw err;
  }
  out(`${dir.path}: sound`);
  out(`  epoch record: ${epochLine}`);
  out(
    `  snapshots: ${check.snapshots.length === 0 ? 'none' : check.snapshots.map((s) => `${s.name} (seq ${s.seq}, epoch ${s.epoch}, ${(s.bytes / MiB).toFixed(1)} MiB)`).join(', ')}`,
  );
  out(`  log: ${check.segments} segment(s), ${check.records === 0 ? 'no records' : `seq ${check.firstSeq}..${check.lastSeq}`}, last epoch ${check.lastEpoch}`);
  for (const n of notes) out(`  note: ${n}`);
  return 0;
}

function damaged(out: (line: string) => void, path: string, why: string, notes: readonly string[]): number {
  out(`${path}: DAMAGED: ${why}`);
  for (const n of notes) out(`  note: ${n}`);
  return 1;
}
