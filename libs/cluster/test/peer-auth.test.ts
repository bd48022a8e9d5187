/**
 * The authenticated channel between two nodes: the implicit handshake, and every way an
 * intruder's copy of the traffic is refused (verbatim, altered, moved, replayed across
 * either side's restart, made with another key), plus key rotation.
 */
import { describe, expect, it } from 'vitest';
import { encodeNodeMessage, NodeKind, decodeNodeMessage } from '@txtest/protocol';
import { AUTH_TRAILER_BYTES, ClusterKeys, PeerAuth, type Opened } from '../src/pair/peer-auth';

const KEY = new TextEncoder().encode('0123456789abcdef0123456789abcdef-one');
const OTHER = new TextEncoder().encode('0123456789abcdef0123456789abcdef-two');
const TO_A = 'P.C._node.a';
const TO_B = 'P.C._node.b';

function message(from: string, epoch: number): Uint8Array {
  return encodeNodeMessage(NodeKind.HEARTBEAT, { from, epoch }, [], AUTH_TRAILER_BYTES);
}

function sealed(auth: PeerAuth, subject: string, from = 'x', epoch = 1): Uint8Array {
  const m = message(from, epoch);
  auth.seal(m, subject);
  return m;
}

/** Two nodes that have completed the handshake: a names b's session and b names a's. */
function pair(aKeys = new ClusterKeys([KEY]), bKeys = new ClusterKeys([KEY])) {
  const a = new PeerAuth(aKeys, 1_000);
  const b = new PeerAuth(bKeys, 2_000);
  // a does not know b yet: its first message is early (dropped quietly) but teaches b a's session.
  expect(b.open(sealed(a, TO_B), TO_B)).toEqual({ ok: false, reason: null });
  // b names a's session: fresh for a, which learns b's.
  expect(a.open(sealed(b, TO_A), TO_A).ok).toBe(true);
  expect(b.open(sealed(a, TO_B), TO_B).ok).toBe(true);
  return { a, b };
}

const reason = (o: Opened) => (o.ok ? 'accepted' : o.reason);

describe('PeerAuth', () => {
  it('passes the message through intact, without its trailer', () => {
    const { a, b } = pair();
    const opened = b.open(sealed(a, TO_B, 'a', 7), TO_B);
    expect(opened.ok).toBe(true);
    const m = decodeNodeMessage((opened as { message: Uint8Array }).message);
    expect(typeof m === 'string' ? m : [m.kind, m.header]).toEqual([NodeKind.HEARTBEAT, { from: 'a', epoch: 7 }]);
  });

  it('refuses a verbatim replay, a flipped bit anywhere, and a message moved to another subject', () => {
    const { a, b } = pair();
    const m = sealed(a, TO_B);
    const copy = Uint8Array.from(m);
    expect(b.open(m, TO_B).ok).toBe(true);
    expect(reason(b.open(copy, TO_B))).toBe('replay');
    for (let i = 0; i < copy.length; i++) {
      const flipped = sealed(a, TO_B);
      flipped[i] = flipped[i]! ^ 0x04;
      expect(reason(b.open(flipped, TO_B))).toBe('bad-mac');
    }
    expect(reason(b.open(sealed(a, TO_B), 'P.C._node.c'))).toBe('bad-mac');
  });

  it('refuses what was captured before the receiver restarted, and an older session of the sender', () => {
    const { a, b } = pair();
    const captured = sealed(a, TO_B);
    // b restarts: a's traffic from before names b's old session.
    const b2 = new PeerAuth(new ClusterKeys([KEY]), 3_000);
    expect(reason(b2.open(captured, TO_B))).toBe('stale-session');
    // a restarts and meets b: everything of a's first session is a replay now.
    const oldA = sealed(a, TO_B);
    const a2 = new PeerAuth(new ClusterKeys([KEY]), 4_000);
    expect(b.open(sealed(a2, TO_B), TO_B)).toEqual({ ok: false, reason: null });
    expect(reason(b.open(oldA, TO_B))).toBe('replay');
    expect(a2.open(sealed(b, TO_A), TO_A).ok).toBe(true);
    expect(b.open(sealed(a2, TO_B), TO_B).ok).toBe(true);
  });

  it('takes reordered messages once each, within its window', () => {
    const { a, b } = pair();
    const ms = Array.from({ length: 5 }, () => sealed(a, TO_B));
    const copies = ms.map((m) => Uint8Array.from(m));
    for (const i of [4, 0, 2, 1, 3]) expect(b.open(ms[i]!, TO_B).ok).toBe(true);
    for (const c of copies) expect(reason(b.open(c, TO_B))).toBe('replay');
    const old = sealed(a, TO_B);
    for (let i = 0; i < 1_100; i++) sealed(a, TO_B);
    expect(b.open(sealed(a, TO_B), TO_B).ok).toBe(true);
    expect(reason(b.open(old, TO_B))).toBe('replay');
  });

  it('refuses another key and unauthenticated messages', () => {
    const a = new PeerAuth(new ClusterKeys([OTHER]), 1_000);
    const b = new PeerAuth(new ClusterKeys([KEY]), 2_000);
    expect(reason(b.open(sealed(a, TO_B), TO_B))).toBe('bad-mac');
    expect(reason(b.open(encodeNodeMessage(NodeKind.HEARTBEAT, { from: 'a', epoch: 1 }, [], AUTH_TRAILER_BYTES), TO_B))).toBe('unauthenticated');
    expect(reason(b.open(new Uint8Array(3), TO_B))).toBe('malformed');
  });

  it('rotates a key: each node signs with its first key and accepts all of its keys', () => {
    // Step 2 of a rotation: a already signs with the new key, b still with the old; both accept both.
    pair(new ClusterKeys([OTHER, KEY]), new ClusterKeys([KEY, OTHER]));
  });
});
