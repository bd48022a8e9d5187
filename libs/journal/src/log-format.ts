/**
 * The log directory's format version: a file `FORMAT` beside the segments and
 * snapshots, `txtest-log <version>`, written when a directory without one is opened and
 * checked before any segment is read. A build meeting a version it does not know
 * refuses the directory with one sentence, instead of misreading its frames.
 *
 * One marker for the directory, not a header in every segment: a directory's segments
 * and snapshots are all written by one format (an upgrade that changes it converts the
 * directory, or the node resyncs from its peer), and the frame layout stays what it is,
 * so every reader of segments (recovery, replay, retransmission, the operator tools)
 * is unchanged. Snapshot files carry their own version in their header as well.
 */
import { JournalUsageError } from './errors';
import type { LogStorage } from './storage';

export const LOG_FORMAT_FILE = 'FORMAT';
export const LOG_FORMAT_VERSION = 1;

const MARKER = /^txtest-log (\d+)\n?$/;

/**
 * Checks the directory's format, writing the marker when there is none (a new
 * directory, or one written before markers existed: that is version 1) unless
 * `readOnly`. Throws JournalUsageError for a version this build does not read.
 */
export async function checkLogFormat(storage: LogStorage, readOnly = false): Promise<number> {
  if (!(await storage.list()).includes(LOG_FORMAT_FILE)) {
    if (!readOnly) await storage.writeAtomic(LOG_FORMAT_FILE, [new TextEncoder().encode(`txtest-log ${LOG_FORMAT_VERSION}\n`)]);
    return LOG_FORMAT_VERSION;
  }
  const text = new TextDecoder().decode(await storage.read(LOG_FORMAT_FILE));
  const m = MARKER.exec(text);
  if (m === null)
    throw new JournalUsageError(`the log's ${LOG_FORMAT_FILE} file does not say which format it is in (it should read "txtest-log ${LOG_FORMAT_VERSION}")`);
  const version = Number(m[1]);
  if (version !== LOG_FORMAT_VERSION) {
    throw new JournalUsageError(
      `the log was written in log format ${version}, and this build reads format ${LOG_FORMAT_VERSION}: run a build that reads it, or start this node with an empty data directory so that it resyncs from its peer`,
    );
  }
  return version;
}
