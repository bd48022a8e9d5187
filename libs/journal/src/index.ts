/**
 * @txtest/journal: the sans-IO write-ahead log of the primary. Frames, group-commit
 * writer, snapshots, crash recovery, and the LogStorage seam all I/O goes through.
 */
export { crc32c, crc32cCombine, crc32cUpdate } from './crc32c';
export { JournalCorruptError, JournalFailedError, JournalRangeError, JournalUsageError, SnapshotCorruptError } from './errors';
export {
  FRAME_BODY_HEADER_BYTES,
  FRAME_CRC,
  FRAME_HEADER_BYTES,
  FRAME_OVERHEAD_BYTES,
  FRAME_SHORT,
  FRAME_ZERO,
  decodeFrameAt,
  encodeFrame,
  sealFrame,
  frameEndAt,
  frameSpanAt,
  frameEpoch,
  frameFailureName,
  frameSeq,
  frameSize,
  readEpoch,
  readSeq,
} from './frame';
export type { DecodedFrame, FrameFailure } from './frame';
export { checkLogFormat, LOG_FORMAT_FILE, LOG_FORMAT_VERSION } from './log-format';
export { MemoryLogStorage } from './memory-storage';
export { listSegments, listSnapshots, parseSegmentName, parseSnapshotName, segmentName, snapshotName } from './names';
export type { SeqFile } from './names';
export { readFrames, recover, verifyLog } from './recovery';
export type { LogCheck, RecoverOptions, Recovery, ReplayFn } from './recovery';
export {
  SNAPSHOT_HEADER_BYTES,
  SNAPSHOT_VERSION,
  checkSnapshotId,
  compact,
  encodeSnapshotHeader,
  parseSnapshotHeader,
  readNewestSnapshot,
  readSnapshot,
  rollbackFloor,
  writeSnapshot,
} from './snapshot';
export type { CompactResult, Snapshot, SnapshotFileHeader, SnapshotInput } from './snapshot';
export { SNAPSHOT_PART_NAME, SnapshotFileWriter } from './snapshot-writer';
export { INCOMING_SNAPSHOT_NAME, IncomingSnapshot, newestSnapshotFile } from './snapshot-stream';
export type { SnapshotFileInfo } from './snapshot-stream';
export type { AppendHandle, LogStorage } from './storage';
export { DEFAULT_SEGMENT_BYTES_MAX, LogWriter } from './writer';
export type { LogWriterOptions } from './writer';
