/**
 * The reply section a primary appends to a REPLICATE for its standby to publish: what
 * goes in comes out, byte for byte, and a damaged section hands out nothing at all.
 */
import { describe, expect, it } from 'vitest';
import { encodeForwardedReplies, readForwardedReplies, type ForwardedReply } from '../src/forwarded-replies';

function readAll(section: Uint8Array): { replies: ForwardedReply[]; problem: string | null } {
  const replies: ForwardedReply[] = [];
  const problem = readForwardedReplies(section, (subject, body, json) => replies.push({ subject, body: Uint8Array.from(body), json }));
  return { replies, problem };
}

describe('forwarded replies', () => {
  const replies: ForwardedReply[] = [
    { subject: '_INBOX.abc.1', body: Uint8Array.of(0x81, 0xa2, 0x6f, 0x6b, 0xc3), json: false },
    { subject: 'replies.ünïcode', body: new TextEncoder().encode('{"ok":true}'), json: true },
    { subject: 'empty.body', body: new Uint8Array(0), json: false },
  ];

  it('round-trips subjects (UTF-8 too), bodies and the JSON flag', () => {
    expect(readAll(encodeForwardedReplies(replies))).toEqual({ replies, problem: null });
    expect(readAll(encodeForwardedReplies([]))).toEqual({ replies: [], problem: null });
  });

  it('a section cut short, or overrunning, is refused as a whole with a sentence', () => {
    const section = encodeForwardedReplies(replies);
    for (const cut of [1, 5, section.length - 1]) {
      const r = readAll(section.subarray(0, cut));
      expect(r.replies).toEqual([]);
      expect(r.problem).toMatch(/cut short|overruns/);
    }
    const lying = Uint8Array.from(section);
    lying[2 + 12 + 1] = 0xff; // the first body's length, far past the end
    expect(readAll(lying)).toEqual({ replies: [], problem: expect.stringMatching(/overruns/) });
  });

  it('a subject that is not UTF-8 is refused', () => {
    const section = encodeForwardedReplies([{ subject: 'ab', body: new Uint8Array(1), json: false }]);
    section[2] = 0xff;
    expect(readAll(section).problem).toMatch(/not UTF-8/);
  });
});
