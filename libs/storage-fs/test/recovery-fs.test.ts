import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe } from 'vitest';
import { FsLogStorage } from '../src/index';
// The same scenarios the journal runs on MemoryLogStorage, here on real files.
import { recoveryScenarios } from '../../journal/test/recovery-scenarios';

describe('recovery on FsLogStorage', () => {
  recoveryScenarios(async () => {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'txtest-recovery-'));
    return {
      storage: new FsLogStorage(dir),
      cleanup: () => fs.promises.rm(dir, { recursive: true, force: true }),
    };
  });
});
