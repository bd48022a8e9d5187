/**
 * The network seam (docs/DECISIONS.md). Production: libs/transport-nats over core
 * NATS; the simulator: an in-memory, seeded, fault-injecting network. Handlers get raw
 * bytes and the request's encoding; everything above decodes and validates itself.
 */

/** `reply` is the subject to answer on ('' when none); `json` is true when the message carried `Content-Type: application/json`. */
export type MessageHandler = (data: Uint8Array, reply: string, json: boolean, subject: string) => void;

export interface Subscription {
  unsubscribe(): void;
  /** Stops taking messages once those the server already routed here are handled (unsubscribe when absent). */
  drain?(): void;
}

export interface PublishOptions {
  /** Marks the body as JSON (`Content-Type: application/json`). */
  json?: boolean;
  /** Subject the receiver should answer on. */
  reply?: string;
}

export interface Transport {
  subscribe(subject: string, handler: MessageHandler, opts?: { queue?: string }): Subscription;
  publish(subject: string, data: Uint8Array, opts?: PublishOptions): void;
  /**
   * Sends and resolves with the reply's bytes; rejects on timeout, and at once when nobody
   * listens on the subject with an error whose `code` is NO_RESPONDERS (see isNoResponders).
   */
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /** Resolves once everything published so far has reached the server. */
  flush(): Promise<void>;
}

/** NATS's status for a request nobody subscribes to, as the `code` of the request's error. */
export const NO_RESPONDERS = '503';

/** The request failed because nobody listens on its subject (not a timeout). */
export function isNoResponders(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === NO_RESPONDERS;
}

/** Publishes a body in the encoding the request came in (a reply, PROTOCOL.md section 2). */
export function publishInEncoding(t: Transport, subject: string, body: Uint8Array, json: boolean): void {
  t.publish(subject, body, json ? { json } : undefined);
}

/** What the node logs through (pino in production). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
