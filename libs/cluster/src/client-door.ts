/**
 * The client-facing door of a node: decodes `P.C.tx` and `P.C.query` messages,
 * enforces the size limit, splits batches, validates at the edge and hands valid
 * updates to the processor. Each client message gets exactly one reply, in the
 * request's encoding (PROTOCOL.md sections 2-4); nothing here throws into the core.
 */
import {
  batchEntries,
  decodeBody,
  encodeBody,
  errorReply,
  parseQuery,
  parseUpdate,
  type BatchReply,
  type UpdateReply,
} from '@txtest/protocol';
import type { Processor, ReplySink } from '@txtest/actors';
import type { Transport } from './transport';

/** Collects the replies of one client message and sends them once all are in. */
class MessageSink implements ReplySink {
  private remaining: number;
  private readonly replies: UpdateReply[] | null;

  constructor(
    private readonly door: ClientDoor,
    private readonly replyTo: string,
    private readonly json: boolean,
    count: number,
    batch: boolean,
  ) {
    this.remaining = count;
    this.replies = batch ? new Array<UpdateReply>(count) : null;
  }

  reply(index: number, reply: UpdateReply): void {
    if (this.replies === null) return this.door.send(this.replyTo, reply, this.json);
    this.replies[index] = reply;
    if (--this.remaining === 0) this.door.send(this.replyTo, { batch: this.replies } satisfies BatchReply, this.json);
  }
}

export class ClientDoor {
  constructor(
    private readonly processor: Processor,
    private readonly transport: Transport,
    private readonly bodyBytesMax: number,
  ) {}

  send(replyTo: string, value: unknown, json: boolean): void {
    if (replyTo === '') return;
    this.transport.publish(replyTo, encodeBody(value, json ? 'json' : 'msgpack'), json ? { json } : undefined);
  }

  readonly onTx = (data: Uint8Array, replyTo: string, json: boolean): void => {
    if (data.length > this.bodyBytesMax) {
      return this.send(replyTo, errorReply('TOO_LARGE', `body is ${data.length} bytes, more than the limit of ${this.bodyBytesMax}`), json);
    }
    const decoded = decodeBody(data, json ? 'json' : 'msgpack');
    if (!decoded.ok) return this.send(replyTo, errorReply('BAD_REQUEST', decoded.message), json);
    const batch = batchEntries(decoded.value);
    if (batch === null) {
      const parsed = parseUpdate(decoded.value);
      if (!parsed.ok) return this.send(replyTo, parsed.reply, json);
      return this.processor.submit(parsed.value, new MessageSink(this, replyTo, json, 1, false), 0);
    }
    if (!batch.ok) return this.send(replyTo, batch.reply, json);
    const entries = batch.value;
    const sink = new MessageSink(this, replyTo, json, entries.length, true);
    for (let i = 0; i < entries.length; i++) {
      const parsed = parseUpdate(entries[i]);
      if (parsed.ok) this.processor.submit(parsed.value, sink, i);
      else sink.reply(i, parsed.reply);
    }
  };

  readonly onQuery = (data: Uint8Array, replyTo: string, json: boolean): void => {
    if (data.length > this.bodyBytesMax) {
      return this.send(replyTo, errorReply('TOO_LARGE', `body is ${data.length} bytes, more than the limit of ${this.bodyBytesMax}`), json);
    }
    const decoded = decodeBody(data, json ? 'json' : 'msgpack');
    if (!decoded.ok) return this.send(replyTo, errorReply('BAD_REQUEST', decoded.message), json);
    const parsed = parseQuery(decoded.value);
    if (!parsed.ok) return this.send(replyTo, parsed.reply, json);
    if (!this.processor.accepting) return this.send(replyTo, errorReply('NOT_PRIMARY', 'this node is not the primary; retry on the cluster subject'), json);
    this.send(replyTo, this.processor.query(parsed.value.asset), json);
  };
}
