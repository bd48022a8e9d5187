/**
 * Client replies a primary forwards to its standby, which publishes them (chain
 * replication, `--reply-from standby`: docs/ARCHITECTURE.md, "Replies from the
 * standby"). They ride at the end of a REPLICATE payload, after its frames:
 *
 *   | subjectLen u16 LE | subject (UTF-8) | flags u8 (1: JSON) | bodyLen u32 LE | body |  ...
 *
 * The bodies are the replies exactly as the primary would have published them.
 */
export interface ForwardedReply {
  subject: string;
  body: Uint8Array;
  json: boolean;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const FIXED_BYTES = 2 + 1 + 4;
const SUBJECT_BYTES_MAX = 0xffff;

/** The reply section for `replies`, one buffer. */
export function encodeForwardedReplies(replies: readonly ForwardedReply[]): Uint8Array {
  let size = 0;
  // Subjects are ASCII in practice (inboxes); 3 bytes a unit bounds any UTF-8.
  for (const r of replies) size += FIXED_BYTES + 3 * r.subject.length + r.body.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const r of replies) {
    const { written } = utf8.encodeInto(r.subject, out.subarray(at + 2));
    if (written > SUBJECT_BYTES_MAX) throw new RangeError(`reply subject of ${written} bytes is too long to forward`);
    view.setUint16(at, written, true);
    at += 2 + written;
    out[at++] = r.json ? 1 : 0;
    view.setUint32(at, r.body.length, true);
    at += 4;
    out.set(r.body, at);
    at += r.body.length;
  }
  return out.subarray(0, at);
}

/**
 * Calls `each` for every reply in `section`; returns a sentence naming the damage
 * instead (then no reply at all has been handed out: the section is checked first).
 */
export function readForwardedReplies(section: Uint8Array, each: (subject: string, body: Uint8Array, json: boolean) => void): string | null {
  const view = new DataView(section.buffer, section.byteOffset, section.byteLength);
  const found: [number, number, boolean, number, number][] = [];
  let at = 0;
  while (at < section.length) {
    if (at + FIXED_BYTES > section.length) return `forwarded reply at byte ${at} is cut short`;
    const subjectLen = view.getUint16(at, true);
    const subjectAt = at + 2;
    const flagsAt = subjectAt + subjectLen;
    if (flagsAt + 5 > section.length) return `forwarded reply at byte ${at} is cut short`;
    const bodyLen = view.getUint32(flagsAt + 1, true);
    const bodyAt = flagsAt + 5;
    if (bodyAt + bodyLen > section.length) return `forwarded reply at byte ${at} overruns the message`;
    found.push([subjectAt, subjectLen, section[flagsAt] === 1, bodyAt, bodyLen]);
    at = bodyAt + bodyLen;
  }
  const subjects: string[] = [];
  try {
    for (const [subjectAt, subjectLen] of found) subjects.push(utf8Decoder.decode(section.subarray(subjectAt, subjectAt + subjectLen)));
  } catch {
    return 'a forwarded reply subject is not UTF-8';
  }
  for (let i = 0; i < found.length; i++) {
    const [, , json, bodyAt, bodyLen] = found[i]!;
    each(subjects[i]!, section.subarray(bodyAt, bodyAt + bodyLen), json);
  }
  return null;
}
