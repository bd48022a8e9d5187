/** The node-message layout's version: absent or 1 is read, another is refused with a sentence naming it. */
import { describe, expect, it } from 'vitest';
import { decodeNodeMessage, encodeNodeMessage, NODE_FORMAT_VERSION, NodeKind } from '../src/index';

describe('node messages', () => {
  it('reads a header without a version or with this one, and refuses another with a sentence', () => {
    expect(NODE_FORMAT_VERSION).toBe(1);
    const plain = decodeNodeMessage(encodeNodeMessage(NodeKind.HEARTBEAT, { from: 'n1', epoch: 3 }));
    expect(plain).toMatchObject({ kind: NodeKind.HEARTBEAT, header: { from: 'n1', epoch: 3 } });
    expect(decodeNodeMessage(encodeNodeMessage(NodeKind.HELLO, { from: 'n1', epoch: 3, v: 1 }))).toMatchObject({ kind: NodeKind.HELLO });
    expect(decodeNodeMessage(encodeNodeMessage(NodeKind.HELLO, { from: 'n1', epoch: 3, v: 2 }))).toBe('node message in format 2; this build speaks format 1');
  });
});
