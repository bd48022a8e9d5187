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
  MsgWriter,
  parseQuery,
  parseUpdate,
  shardOf,
  type ErrorReply,
  type ShardSpec,
  type UpdateRequest,
} from '@txtest/protocol';
import { replyOf, writeReplyOf, type DedupeEntry, type Processor, type ReplySink } from '@txtest/actors';
import { publishInEncoding, type Transport } from '../transport';

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
  /** The highest seq among the outcomes so far: the reply may leave once that is committed. */
  private seq = 0;

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
    if (entry.seq > this.seq) this.seq = entry.seq;
    if (!entry.ok) this.door.countError('REJECTED');
    this.put(index, entry);
  }

  refused(index: number, reply: ErrorReply): void {
    this.door.countError(reply.error.code);
    this.put(index, reply);
  }

  private put(index: number, item: Item): void {
    if (this.items === null) return this.door.reply(this.replyTo, this.json, item, null, this.seq);
    this.items[index] = item;
    if (--this.remaining === 0) this.door.reply(this.replyTo, this.json, null, this.items, this.seq);
  }
}

/** Hands a reply to the standby to publish (`--reply-from standby`); false when no standby takes it now. */
export type ForwardReply = (subject: string, body: Uint8Array, json: boolean) => boolean;

export class ClientDoor {
  private readonly w = new MsgWriter();
  /** Error replies sent, by code (REJECTED: the model refused an update), since start. */
  readonly errors: Record<string, number> = {};

  constructor(
    private readonly processor: Processor,
    private readonly transport: Transport,
    private readonly bodyBytesMax: number,
    private readonly forward: ForwardReply,
    private readonly shard: ShardSpec,
  ) {}

  /** WRONG_SHARD for an asset another shard owns (nothing applied), else null; always null unsharded. */
  private misrouted(asset: string, id?: string): ErrorReply | null {
    const { count, index } = this.shard;
    if (count === 1) return null;
    const owner = shardOf(asset, count);
    if (owner === index) return null;
    return errorReply(
      'WRONG_SHARD',
      `asset "${asset}" belongs to shard ${owner} of ${count}, and this is shard ${index}: send it to the tx and query subjects ending in .${owner}`,
      id,
    );
  }

  private submit(u: UpdateRequest, sink: MessageSink, index: number): void {
    const wrong = this.misrouted(u.asset, u.id);
    if (wrong !== null) return sink.refused(index, wrong);
    this.processor.submit(u, sink, index);
  }

  /**
   * Sends one reply (`one`) or a batch reply (`batch`) whose outcomes reach up to `seq`:
   * now if that is committed; else through the standby, which publishes it once it
   * holds the records (the outcomes were heard at their turns); else once it commits.
   */
  reply(replyTo: string, json: boolean, one: Item | null, batch: Item[] | null, seq: number): void {
    if (replyTo === '') return;
    const body = this.encode(json, one, batch);
    if (seq <= this.processor.committedSeq) return this.publish(replyTo, body, json);
    if (this.processor.replyOnApply && this.forward(replyTo, body, json)) return;
    this.processor.whenCommitted(() => this.publish(replyTo, body, json));
  }

  private encode(json: boolean, one: Item | null, batch: Item[] | null): Uint8Array {
    if (json) {
      const toReply = (x: Item) => (isEntry(x) ? replyOf(x) : x);
      return encodeBody(batch === null ? toReply(one!) : { batch: batch.map(toReply) }, 'json');
    }
    const w = this.w;
    if (batch === null) this.writeItem(one!);
    else {
      w.mapHeader(1);
      w.str('batch');
      w.arrayHeader(batch.length);
      for (let i = 0; i < batch.length; i++) this.writeItem(batch[i]!);
    }
    return w.take();
  }

  private publish(replyTo: string, body: Uint8Array, json: boolean): void {
    publishInEncoding(this.transport, replyTo, body, json);
  }

  private writeItem(x: Item): void {
    if (isEntry(x)) writeReplyOf(this.w, x);
    else this.w.value(x);
  }

  countError(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  send(replyTo: string, value: unknown, json: boolean): void {
    const error = (value as Partial<ErrorReply>).error;
    if (error !== undefined) this.countError(error.code);
    if (replyTo === '') return;
    this.publish(replyTo, encodeBody(value, json ? 'json' : 'msgpack'), json);
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
      return this.submit(parsed.value, new MessageSink(this, replyTo, json, 1, false), 0);
    }
    if (!batch.ok) return this.send(replyTo, batch.reply, json);
    const entries = batch.value;
    const sink = new MessageSink(this, replyTo, json, entries.length, true);
    for (let i = 0; i < entries.length; i++) {
      const parsed = parseUpdate(entries[i]);
      if (parsed.ok) this.submit(parsed.value, sink, i);
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
    const { asset } = parsed.value;
    const wrong = this.misrouted(asset);
    if (wrong !== null) return this.send(replyTo, wrong, json);
    if (!this.processor.accepting) return this.send(replyTo, errorReply('NOT_PRIMARY', 'this node is not the primary; retry on the cluster subject'), json);
    // With replies from the standby a client may hold an ok the primary has not seen
    // confirmed yet: the query waits for what was applied when it came, so it reads
    // the client's own writes.
    if (this.processor.replyOnApply) return this.processor.whenCommitted(() => this.send(replyTo, this.processor.query(asset), json));
    this.send(replyTo, this.processor.query(asset), json);
  };
}
