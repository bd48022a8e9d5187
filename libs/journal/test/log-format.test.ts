/**
 * The log directory's format marker: written by the first recovery of a directory,
 * left alone by verify (read-only), and a version this build does not read is refused
 * with one sentence before any segment is read.
 */
import { describe, expect, it } from 'vitest';
import { LOG_FORMAT_FILE, MemoryLogStorage, recover, verifyLog } from '../src/index';

const warn = () => undefined;

describe('log format', () => {
  it('a recovery marks a directory without a marker as format 1; verify reads it and writes nothing', async () => {
    const s = new MemoryLogStorage();
    await verifyLog(s, warn);
    expect(await s.list()).not.toContain(LOG_FORMAT_FILE);
    await recover(s, { warn });
    expect(new TextDecoder().decode(await s.read(LOG_FORMAT_FILE))).toBe('txtest-log 1\n');
    await expect(verifyLog(s, warn)).resolves.toMatchObject({ segments: 0 });
  });

  it('a directory in a format this build does not read is refused, naming both versions and the way out', async () => {
    const s = new MemoryLogStorage();
    await s.writeAtomic(LOG_FORMAT_FILE, [new TextEncoder().encode('txtest-log 2\n')]);
    await expect(recover(s, { warn })).rejects.toThrow(/the log was written in log format 2, and this build reads format 1: .*empty data directory/);
    await expect(verifyLog(s, warn)).rejects.toThrow(/log format 2/);
    await s.writeAtomic(LOG_FORMAT_FILE, [new TextEncoder().encode('something else')]);
    await expect(recover(s, { warn })).rejects.toThrow(/FORMAT file does not say which format/);
  });
});
