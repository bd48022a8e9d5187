/**
 * Streams one snapshot file to a joiner with a byte window: at most `windowBytes` sent
 * beyond what the joiner acknowledged (bytes it has written), each piece read from the
 * file with `readAt` just before it is sent. So the primary holds a window of pieces,
 * never the snapshot, however large it is. A gap reported by the joiner, or silence
 * (the caller's retry timer), rewinds to the last acknowledged byte: a dropped piece
 * costs one window, not the transfer. A file that vanished or shrank (it should be
 * pinned against compaction, but a disk can still lose it) is reported through `onLost`.
 */
import type { LogStorage, SnapshotFileInfo } from '@txtest/journal';
import { NodeKind } from '@txtest/protocol';
import type { PeerLink } from './peer-link';

export interface SnapshotSenderDeps {
  link: PeerLink;
  storage: LogStorage;
  /** The header fields every piece carries besides seq and offset. */
  header(): { from: string; epoch: number; syncId: string; plan: string };
  onLost(why: string): void;
  pieceBytes: number;
  windowBytes: number;
}

export class SnapshotSender {
  /** Bytes sent from the start of the file (rewound to `acked` on a gap or silence). */
  private sent = 0;
  /** Bytes the joiner has written contiguously. */
  acked = 0;
  private reading = false;
  private stopped = false;

  constructor(
    private readonly d: SnapshotSenderDeps,
    readonly file: SnapshotFileInfo,
  ) {}

  get done(): boolean {
    return this.acked >= this.file.bytes;
  }

  /** The joiner has `bytes` of the file; `gap`: the piece after them went missing. */
  onAck(bytes: number, gap: boolean): boolean {
    const progress = bytes > this.acked;
    if (progress) this.acked = Math.min(bytes, this.file.bytes);
    if (gap || this.sent < this.acked) this.sent = this.acked;
    void this.pump();
    return progress;
  }

  /** Sends again from the last acknowledged byte (nothing was heard for a while). */
  rewind(): void {
    this.sent = this.acked;
    void this.pump();
  }

  stop(): void {
    this.stopped = true;
  }

  /** Sends pieces while the window has room; one loop at a time (acks arriving meanwhile widen it). */
  async pump(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    const { file } = this;
    try {
      while (!this.stopped && this.sent < file.bytes && this.sent - this.acked < this.d.windowBytes) {
        const at = this.sent;
        const len = Math.min(this.d.pieceBytes, file.bytes - at);
        let piece: Uint8Array;
        try {
          piece = await this.d.storage.readAt(file.name, at, len);
        } catch (err) {
          if ((err as { code?: unknown }).code !== 'ENOENT') {
            this.stopped = true;
            return this.d.onLost(`${file.name} cannot be read: ${(err as Error).message}`);
          }
          piece = new Uint8Array(0);
        }
        if (this.stopped) return;
        if (piece.length !== len) {
          this.stopped = true;
          return this.d.onLost(`${file.name} ${piece.length === 0 ? 'disappeared' : 'shrank'} while it was being sent`);
        }
        // Rewound while reading: this piece is no longer the next one.
        if (this.sent !== at) continue;
        this.d.link.send(NodeKind.SNAPSHOT, { ...this.d.header(), seq: file.seq, offset: at }, [piece]);
        this.sent = at + len;
      }
    } finally {
      this.reading = false;
    }
  }
}
