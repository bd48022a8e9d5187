/**
 * File naming. Seqs are zero-padded to 16 digits so that names sort lexically in seq
 * order in a directory listing (16 digits cover every safe integer up to 2^53).
 * The code still sorts by the parsed number rather than by name, so a hand-made
 * file with a different width cannot reorder the log.
 */

const SEGMENT_RE = /^(\d{16})\.log$/;
const SNAPSHOT_RE = /^snapshot-(\d{16})\.snap$/;

/** `<firstSeq, 16 digits>.log` */
export function segmentName(firstSeq: number): string {
  return `${pad16(firstSeq)}.log`;
}

/** The first seq encoded in a segment name, or null if `name` is not a segment. */
export function parseSegmentName(name: string): number | null {
  const m = SEGMENT_RE.exec(name);
  return m ? Number(m[1]) : null;
}

/** `snapshot-<seq, 16 digits>.snap` */
export function snapshotName(seq: number): string {
  return `snapshot-${pad16(seq)}.snap`;
}

/** The seq encoded in a snapshot name, or null if `name` is not a snapshot. */
export function parseSnapshotName(name: string): number | null {
  const m = SNAPSHOT_RE.exec(name);
  return m ? Number(m[1]) : null;
}

/** A named file with the seq parsed from its name. */
export interface SeqFile {
  name: string;
  seq: number;
}

/** The segments among `names`, oldest (lowest firstSeq) first; `seq` is the firstSeq. */
export function listSegments(names: readonly string[]): SeqFile[] {
  return pick(names, parseSegmentName);
}

/** The snapshots among `names`, oldest (lowest seq) first. */
export function listSnapshots(names: readonly string[]): SeqFile[] {
  return pick(names, parseSnapshotName);
}

function pick(names: readonly string[], parse: (n: string) => number | null): SeqFile[] {
  const out: SeqFile[] = [];
  for (const name of names) {
    const seq = parse(name);
    if (seq !== null && Number.isSafeInteger(seq)) out.push({ name, seq });
  }
  return out.sort((a, b) => a.seq - b.seq);
}

function pad16(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`seq must be a non-negative safe integer, got ${n}`);
  return String(n).padStart(16, '0');
}
