/**
 * Authenticated node-to-node messages (`--cluster-key-file`, docs/SECURITY.md). With a
 * cluster key every node message gets a trailer, and the kind byte its high bit:
 *
 *   +------------------+-----------------+-----------------+------------+-------------+
 *   | message (kind |  | sender session  | receiver session | counter    | HMAC-SHA256 |
 *   | 0x80, header,    | f64 BE          | f64 BE (0: not   | f64 BE     | 32 bytes    |
 *   | payload)         |                 | known yet)       |            |             |
 *   +------------------+-----------------+-----------------+------------+-------------+
 *
 * The MAC covers the destination subject and every byte before it, so a message cannot be
 * altered, forged, or moved to another node's or another pair's subject. Replays:
 * - a session is the sender's start time (ms): a restarted node's is higher, and a
 *   receiver takes only the highest it has seen from its peer (an old session's
 *   messages, however authentic, are replays);
 * - every message names the receiver's current session, so what was captured before
 *   the receiver restarted names an older one and is refused: that is why the guard
 *   needs no state on disk;
 * - within a session the counter rises by one per message; a window of recent counters
 *   refuses any seen twice (a window, not a high-water mark, so a network that reorders
 *   is no reason to drop).
 * The handshake is implicit: until a node has heard from its peer it names session 0,
 * which the peer drops quietly but learns the sender's session from; its own messages
 * then name that session, and the first of them the sender accepts teaches it the peer's.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/** The kind byte's high bit: the message carries the trailer. */
export const AUTH_FLAG = 0x80;
const MAC_BYTES = 32;
export const AUTH_TRAILER_BYTES = 8 + 8 + 8 + MAC_BYTES;
/** Counters remembered per session for the replay check. */
const WINDOW = 1024;

/** Why a message on this node's subject was dropped (the label of txtest_node_messages_rejected_total). */
export const REJECT_REASONS = [
  /** Not a node message at all (too short, unknown kind, bad header). */
  'malformed',
  /** Authentic or not, it names a node other than the configured peer. */
  'not-peer',
  /** This node holds a cluster key and the message carries no MAC. */
  'unauthenticated',
  /** The message carries a MAC and this node holds no cluster key. */
  'no-key',
  /** The MAC does not match: forged, altered, or made with a key this node does not hold. */
  'bad-mac',
  /** Authentic, but seen before or from an older session of the peer. */
  'replay',
  /** Authentic, but made for an earlier session of this node (captured before it restarted). */
  'stale-session',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/**
 * The cluster key(s) of one node: the first signs and every one is accepted, so a key
 * is rotated without a window in which the two nodes refuse each other (SECURITY.md).
 */
export class ClusterKeys {
  readonly keys: readonly KeyObject[];

  constructor(secrets: readonly Uint8Array[]) {
    if (secrets.length === 0) throw new Error('a cluster key set needs at least one key');
    this.keys = secrets.map((s) => createSecretKey(s));
  }

  mac(subject: string, bytes: Uint8Array, key: KeyObject = this.keys[0]!): Buffer {
    return createHmac('sha256', key).update(subject).update(bytes).digest();
  }
}

/** What the receiving side learned from one message. */
export type Opened = { ok: true; message: Uint8Array } | { ok: false; reason: RejectReason | null };

/**
 * One node's side of the authenticated channel to its peer: seals what it sends, opens
 * what it receives. `session` must grow across this node's restarts (its start time).
 */
export class PeerAuth {
  private sent = 0;
  /** The peer's highest session seen in an authentic message; 0 before any. */
  private peerSession = 0;
  private peerMax = 0;
  private readonly seen = new Uint32Array(WINDOW / 32);

  constructor(
    private readonly keys: ClusterKeys,
    readonly session: number,
  ) {}

  /** Fills the trailer of `msg` (its last AUTH_TRAILER_BYTES, reserved by the encoder) for `subject`. */
  seal(msg: Uint8Array, subject: string): void {
    const at = msg.length - AUTH_TRAILER_BYTES;
    msg[0] = msg[0]! | AUTH_FLAG;
    const view = new DataView(msg.buffer, msg.byteOffset, msg.length);
    view.setFloat64(at, this.session);
    view.setFloat64(at + 8, this.peerSession);
    view.setFloat64(at + 16, ++this.sent);
    msg.set(this.keys.mac(subject, msg.subarray(0, msg.length - MAC_BYTES)), msg.length - MAC_BYTES);
  }

  /**
   * Checks one received message: on success the message without its trailer (its kind
   * byte keeps the flag, which decodeNodeMessage ignores). A rejection's reason is null when the message is simply early (the peer
   * has not heard from this node yet): part of the handshake, not an attack.
   */
  open(msg: Uint8Array, subject: string): Opened {
    if (msg.length < 1 + AUTH_TRAILER_BYTES) return reject('malformed');
    if ((msg[0]! & AUTH_FLAG) === 0) return reject('unauthenticated');
    const macAt = msg.length - MAC_BYTES;
    if (!this.macMatches(subject, msg.subarray(0, macAt), msg.subarray(macAt))) return reject('bad-mac');
    const view = new DataView(msg.buffer, msg.byteOffset, msg.length);
    const at = msg.length - AUTH_TRAILER_BYTES;
    const sender = view.getFloat64(at);
    const named = view.getFloat64(at + 8);
    const counter = view.getFloat64(at + 16);
    if (sender < this.peerSession) return reject('replay');
    if (sender > this.peerSession) this.newPeerSession(sender);
    if (named !== this.session) return reject(named === 0 ? null : 'stale-session');
    if (!this.firstSight(counter)) return reject('replay');
    return { ok: true, message: msg.subarray(0, at) };
  }

  private macMatches(subject: string, signed: Uint8Array, mac: Uint8Array): boolean {
    for (const key of this.keys.keys) if (timingSafeEqual(this.keys.mac(subject, signed, key), mac)) return true;
    return false;
  }

  private newPeerSession(session: number): void {
    this.peerSession = session;
    this.peerMax = 0;
    this.seen.fill(0);
  }

  /** True the first time a counter is seen in the current peer session (within the window). */
  private firstSight(c: number): boolean {
    if (!Number.isSafeInteger(c) || c < 1) return false;
    if (c > this.peerMax) {
      if (c - this.peerMax >= WINDOW) this.seen.fill(0);
      else for (let i = this.peerMax + 1; i < c; i++) this.clearBit(i);
      this.peerMax = c;
      this.setBit(c);
      return true;
    }
    if (this.peerMax - c >= WINDOW || this.bit(c)) return false;
    this.setBit(c);
    return true;
  }

  private bit(c: number): boolean {
    const i = c % WINDOW;
    return (this.seen[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  private setBit(c: number): void {
    const i = c % WINDOW;
    this.seen[i >>> 5] = this.seen[i >>> 5]! | (1 << (i & 31));
  }

  private clearBit(c: number): void {
    const i = c % WINDOW;
    this.seen[i >>> 5] = this.seen[i >>> 5]! & ~(1 << (i & 31));
  }
}

function reject(reason: RejectReason | null): Opened {
  return { ok: false, reason };
}
