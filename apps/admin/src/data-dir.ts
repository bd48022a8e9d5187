/** A stopped node's data directory, opened for reading by the offline commands. */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '@txtest/cli';
import { FsEpochStorage, FsLogStorage } from '@txtest/storage-fs';

export interface DataDir {
  path: string;
  log: FsLogStorage;
  epochs: FsEpochStorage;
}

/** The data dir at `path` (a node's `--data-dir`: its log in `log/`, its epoch record beside it). */
export function openDataDir(path: string | undefined): DataDir {
  if (path === undefined) throw new CliError("missing the data directory (a stopped node's --data-dir)");
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new CliError(`"${path}" is not a directory`);
  if (!existsSync(join(path, 'log'))) throw new CliError(`"${path}" holds no log/ directory: not a node's data directory`);
  return { path, log: new FsLogStorage(join(path, 'log')), epochs: new FsEpochStorage(path) };
}
