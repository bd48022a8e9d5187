/**
 * An in-memory Transport for unit tests of the pair's parts: exact subjects, delivery in
 * the publishing call, and every publish kept so a test can read what a part sent.
 */
import { decodeNodeMessage, type NodeMessage } from '@txtest/protocol';
import type { MessageHandler, Subscription, Transport } from '../../src/transport';

export class MemoryBus implements Transport {
  readonly published: { subject: string; data: Uint8Array }[] = [];
  private readonly handlers = new Map<string, Set<MessageHandler>>();

  subscribe(subject: string, handler: MessageHandler): Subscription {
    let set = this.handlers.get(subject);
    if (set === undefined) this.handlers.set(subject, (set = new Set()));
    set.add(handler);
    return { unsubscribe: () => void set.delete(handler) };
  }

  publish(subject: string, data: Uint8Array): void {
    this.published.push({ subject, data });
    for (const h of this.handlers.get(subject) ?? []) h(data, '', false, subject);
  }

  request(subject: string): Promise<Uint8Array> {
    return Promise.reject(new Error(`no responders on ${subject}`));
  }

  async flush(): Promise<void> {}

  /** The node messages published on `subject`, decoded. */
  nodeMessages(subject: string): NodeMessage[] {
    return this.published.filter((p) => p.subject === subject).map((p) => decodeNodeMessage(p.data) as NodeMessage);
  }
}
