/**
 * The client-facing door of a node: decodes `P.C.tx` and `P.C.query` messages,
 * enforces the size limit, splits batches, validates at the edge and hands valid
 * updates to the processor. Each client message gets exactly one reply, in the
 * request's encoding (PROTOCOL.md sections 2-4); nothing here throws into the core.
 */
import { batchEntries, decodeBody, encodeBody, errorReply, MsgWriter, parseQuery, parseUpdate, type ErrorReply } from '@txtest/protocol';
import { replyOf, writeReplyOf, type DedupeEntry, type Processor, type ReplySink } from '@txtest/actors';
import type { Transport } from '../transport';

type Item = DedupeEntry | ErrorReply;

function isEntry(x: Item): x is DedupeEntry {
  return 'outcome' in x;
}

/**
 * Collects the replies of one client message and sends them once all are in. A
 * MessagePack batch reply is written straight from the dedupe entries into one
 * buffer; JSON (the by-hand path) builds reply objects.
 */
class MessageSink implements ReplySink {
  private remaining: number;
  private readonly items: Item[] | null;

  constructor(
    private readonly door: ClientDoor,
    private readonly replyTo: string,
    private readonly json: boolean,
    count: number,
    batch: boolean,
  ) {
    this.remaining = count;
    this.items = batch ? new Array<Item>(count) : null;
  }

  done(index: number, entry: DedupeEntry): void {
    this.put(index, entry);
  }

  refused(index: number, reply: ErrorReply): void {
    this.put(index, reply);
  }

  private put(index: number, item: Item): void {
    if (this.items === null) return this.door.sendItems(this.replyTo, this.json, item, null);
    this.items[index] = item;
    if (--this.remaining === 0) this.door.sendItems(this.replyTo, this.json, null, this.items);
  }
}

export class ClientDoor {
  private readonly w = new MsgWriter();

  constructor(
    private readonly processor: Processor,
    private readonly transport: Transport,
    private readonly bodyBytesMax: number,
  ) {}

  /** Sends one reply (`one`) or a batch reply (`batch`). */
  sendItems(replyTo: string, json: boolean, one: Item | null, batch: Item[] | null): void {
    if (replyTo === '') return;
    if (json) {
      const toReply = (x: Item) => (isEntry(x) ? replyOf(x) : x);
      return this.send(replyTo, batch === null ? toReply(one!) : { batch: batch.map(toReply) }, true);
    }
    const w = this.w;
    if (batch === null) this.writeItem(one!);
    else {
      w.mapHeader(1);
      w.str('batch');
      w.arrayHeader(batch.length);
      for (let i = 0; i < batch.length; i++) this.writeItem(batch[i]!);
    }
    this.transport.publish(replyTo, w.take());
  }

  private writeItem(x: Item): void {
    if (isEntry(x)) writeReplyOf(this.w, x);
    else this.w.value(x);
  }

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
      else sink.refused(i, parsed.reply);
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
