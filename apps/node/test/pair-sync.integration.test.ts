/**
 * The snapshot stream of a sync, watched and broken on the wire: a primary whose log no
 * longer starts at seq 1 (compacted behind its snapshots) catches an empty joiner up by
 * streaming its newest snapshot file. Every piece is acknowledged by bytes written, and
 * the bytes in flight never exceed the window; a dropped piece is sent again from the
 * last acknowledged byte (not from the start, and not as a second sync); a snapshot
 * file deleted under a running sync restarts it cleanly on the next one. Two in-process
 * nodes on a real nats-server.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TxClient } from '@txtest/client';
import { snapshotName } from '@txtest/journal';
import { decodeNodeMessage, NodeKind, subjects, type AckHeader, type SnapshotHeader } from '@txtest/protocol';
import { NatsTransport } from '@txtest/transport-nats';
import { inProcessSuite, TapTransport } from './helpers/in-process-pair';

const suite = inProcessSuite('txtest-sync-');

const ACCOUNTS = 20_000;
const WINDOW = 512 * 1024;
const PIECE = 256 * 1024;

/** What the taps saw of one sync's snapshot stream. */
interface Wire {
  /** Offsets of the SNAPSHOT pieces the primary sent, in order. */
  offsets: number[];
  sentBytes: number;
  /** The highest byte count the joiner acknowledged. */
  acked: number;
  /** The largest (piece end - bytes acknowledged so far) seen at a send. */
  maxInFlight: number;
  gapAcks: number;
}

/**
 * n1 serves alone (forced), takes ACCOUNTS updates with snapshots every 4000 records and
 * small segments, so compaction leaves its log starting far past seq 1; then an empty n2
 * joins. `onPiece` may drop (false) or act on each SNAPSHOT piece the primary sends.
 */
async function syncScenario(tag: string, onPiece: (h: SnapshotHeader, wire: Wire) => boolean = () => true) {
  const [nc1, nc2, ncc] = await suite.connections(3);
  const s = subjects('txtest', tag);
  const wire: Wire = { offsets: [], sentBytes: 0, acked: 0, maxInFlight: 0, gapAcks: 0 };
  const t1 = new TapTransport(new NatsTransport(nc1!), (subject, data) => {
    if (subject !== s.node('n2') || data[0] !== NodeKind.SNAPSHOT) return true;
    const m = decodeNodeMessage(data);
    if (typeof m === 'string' || m.kind !== NodeKind.SNAPSHOT) return true;
    if (!onPiece(m.header, wire)) return false;
    wire.offsets.push(m.header.offset);
    wire.sentBytes += m.payload.length;
    wire.maxInFlight = Math.max(wire.maxInFlight, m.header.offset + m.payload.length - wire.acked);
    return true;
  });
  const t2 = new TapTransport(new NatsTransport(nc2!), (subject, data) => {
    if (subject === s.node('n1') && data[0] === NodeKind.ACK) {
      const m = decodeNodeMessage(data);
      const h = typeof m === 'string' ? null : (m.header as AckHeader);
      if (h?.snapshotBytes !== undefined) wire.acked = Math.max(wire.acked, h.snapshotBytes);
      if (h?.gap === true) wire.gapAcks++;
    }
    return true;
  });
  const lines1: string[] = [];
  const lines2: string[] = [];
  // A small ring: the old records are on disk only, and compacted away behind the snapshots.
  const options = { snapshotEveryRecords: 4000, segmentBytesMax: 256 * 1024, syncWindowBytes: WINDOW, replicationRingBytes: 64 * 1024 };
  const solo = suite.nodes().roleReached(tag, 'n1', 'solo');
  const n1 = await suite.nodes().start(tag, 'n1', 'n2', t1, lines1, { ...options, forcePrimary: true });
  const client = new TxClient(ncc!, { cluster: tag, attemptTimeoutMs: 2000 });
  const running = [n1];
  try {
    await solo;
    for (let i = 0; i < ACCOUNTS; i += 1000) {
      await Promise.all(
        Array.from({ length: 1000 }, (_, k) =>
          client.update({ id: client.newId(), asset: `acct-${i + k}`, op: 'credit', args: { amount: 5 }, model: 'account' }),
        ),
      );
    }
    // The snapshots (and the compaction after them) run in the background: wait for the third.
    const deadline = Date.now() + 20_000;
    while (lines1.filter((l) => l.startsWith('snapshot written')).length < 3) {
      if (Date.now() > deadline) throw new Error(`no third snapshot: ${lines1.slice(-5).join(' | ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const ready = Promise.all([suite.nodes().roleReached(tag, 'n1', 'primary'), suite.nodes().roleReached(tag, 'n2', 'standby')]);
    const n2 = await suite.nodes().start(tag, 'n2', 'n1', t2, lines2, options);
    running.push(n2);
    await ready;
    expect(n2.processor.lastSeq).toBe(n1.processor.lastSeq);
    expect(n2.processor.digest().digest).toBe(n1.processor.digest().digest);
    // The joiner caught up from the primary's snapshot file, in one sync.
    expect(lines1.filter((l) => l.startsWith('sync started'))).toHaveLength(1);
    expect(lines1.some((l) => l.startsWith('streaming the newest snapshot file'))).toBe(true);
    expect(lines2.some((l) => l.startsWith("installed the primary's snapshot"))).toBe(true);
    const streamed = lines1
      .filter((l) => l.startsWith('streaming the newest snapshot file'))
      .map((l) => JSON.parse(l.slice(l.indexOf('{'))) as { bytes: number });
    return { wire, lines1, lines2, fileBytes: streamed[streamed.length - 1]!.bytes };
  } finally {
    client.close();
    await Promise.all(running.map((n) => n.stop()));
  }
}

describe('the snapshot stream of a sync', () => {
  it('is acknowledged piece by piece and never has more than the window in flight', async () => {
    const { wire, fileBytes } = await syncScenario('synwin');
    // Bigger than the window, so the window mattered; sent once, since nothing was lost;
    // acknowledged as it went (the last piece's ack is the install itself).
    expect(fileBytes).toBeGreaterThan(2 * WINDOW);
    expect(wire.sentBytes).toBe(fileBytes);
    expect(wire.acked).toBeGreaterThanOrEqual(fileBytes - PIECE);
    expect(wire.maxInFlight).toBeLessThanOrEqual(WINDOW + PIECE);
  });

  it('resends from the last acknowledged byte after a dropped piece', async () => {
    let dropped = false;
    const { wire, fileBytes } = await syncScenario('syndrop', (h) => {
      if (dropped || h.offset !== 2 * PIECE) return true;
      dropped = true;
      return false;
    });
    expect(dropped).toBe(true);
    // The missing piece was sent again and the transfer went on from it: at most a window
    // was sent twice, far from the whole file again.
    expect(wire.offsets.filter((o) => o === 2 * PIECE).length).toBe(1);
    expect(wire.offsets.indexOf(2 * PIECE)).toBeGreaterThan(wire.offsets.indexOf(3 * PIECE));
    expect(wire.sentBytes - fileBytes).toBeLessThanOrEqual(WINDOW + PIECE);
  });

  it('restarts cleanly on the next snapshot file when the one being streamed disappears', async () => {
    let removed: string | null = null;
    const { lines1 } = await syncScenario('syngone', (h) => {
      if (removed === null) {
        removed = snapshotName(h.seq);
        rmSync(join(suite.nodes().logDir('syngone', 'n1'), removed));
      }
      return true;
    });
    expect(removed).not.toBeNull();
    expect(lines1.some((l) => l.startsWith('sync restarts from the newest snapshot file') && l.includes('disappeared'))).toBe(true);
  });
});
