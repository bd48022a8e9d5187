/**
 * The epoch record on disk: `epoch.json`, replaced atomically (temp file, fsync,
 * rename, fsync the directory) so a crash leaves the old record or the new one.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { epochRecordProblem, type EpochRecord, type EpochStorage } from '@txtest/cluster';

export class EpochFileError extends Error {
  override readonly name = 'EpochFileError';
}

export class FsEpochStorage implements EpochStorage {
  private readonly file: string;

  constructor(private readonly dir: string) {
    this.file = join(dir, 'epoch.json');
  }

  async load(): Promise<EpochRecord | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      throw new EpochFileError(`${this.file} is not valid JSON (${(err as Error).message}); restore it or remove it to start with no epoch history`);
    }
    const problem = epochRecordProblem(v);
    if (problem !== null) throw new EpochFileError(`${this.file} is not an epoch record: ${problem}`);
    return v as EpochRecord;
  }

  async save(record: EpochRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.file}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(record));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
    const d = await open(this.dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }
}
