/** The production Transport: core NATS, one connection per node. */
import { errors, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { NO_RESPONDERS, type MessageHandler, type PublishOptions, type Subscription, type Transport } from '@txtest/cluster';

const CONTENT_TYPE = 'Content-Type';
const JSON_TYPE = 'application/json';

function jsonHeaders(): MsgHdrs {
  const h = headers();
  h.set(CONTENT_TYPE, JSON_TYPE);
  return h;
}

export class NatsTransport implements Transport {
  constructor(readonly nc: NatsConnection) {}

  subscribe(subject: string, handler: MessageHandler, opts: { queue?: string } = {}): Subscription {
    const sub = this.nc.subscribe(subject, {
      ...opts,
      callback: (err, msg) => {
        if (err !== null) return;
        const h = msg.headers;
        const json = h !== undefined && h.get(CONTENT_TYPE).startsWith(JSON_TYPE);
        handler(msg.data, msg.reply ?? '', json, msg.subject);
      },
    });
    return { unsubscribe: () => sub.unsubscribe(), drain: () => void sub.drain().catch(() => undefined) };
  }

  publish(subject: string, data: Uint8Array, opts?: PublishOptions): void {
    if (opts === undefined) return this.nc.publish(subject, data);
    const o: { reply?: string; headers?: MsgHdrs } = {};
    if (opts.reply !== undefined) o.reply = opts.reply;
    if (opts.json === true) o.headers = jsonHeaders();
    this.nc.publish(subject, data, o);
  }

  async request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    try {
      const m = await this.nc.request(subject, data, { timeout: timeoutMs });
      return m.data;
    } catch (err) {
      // The seam's one mark for "nobody listens" (transport.ts), whichever way nats.js wraps it.
      const none = err instanceof errors.NoRespondersError || (err instanceof errors.RequestError && err.isNoResponders());
      throw none ? Object.assign(new Error(`no responders: ${subject}`), { code: NO_RESPONDERS }) : err;
    }
  }

  flush(): Promise<void> {
    return this.nc.flush();
  }
}
