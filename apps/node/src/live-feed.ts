/**
 * The live stream behind the visualizer: Server-Sent Events on `GET /events`.
 *
 *   event: hello       once per connection: { nodeId, transitions: [recent, oldest first] }
 *   event: snapshot    every `intervalMs` while anyone listens: the node's live view
 *   event: transition  at once, on each role change: { node, from, to, epoch, reason, t }
 *
 * A connection that cannot keep up (its socket buffer past `bufferedBytesMax`) is
 * dropped; EventSource reconnects by itself and gets a fresh hello.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface Transition {
  node: string;
  from: string;
  to: string;
  epoch: number;
  reason: string;
  /** Wall-clock milliseconds when the node saw it. */
  t: number;
}

export interface LiveFeedOptions {
  nodeId: string;
  snapshot: () => unknown;
  intervalMs?: number;
  transitionsMax?: number;
  bufferedBytesMax?: number;
}

export class LiveFeed {
  private readonly clients = new Set<ServerResponse>();
  private readonly transitions: Transition[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly intervalMs: number;
  private readonly transitionsMax: number;
  private readonly bufferedBytesMax: number;

  constructor(private readonly o: LiveFeedOptions) {
    this.intervalMs = o.intervalMs ?? 250;
    this.transitionsMax = o.transitionsMax ?? 100;
    this.bufferedBytesMax = o.bufferedBytesMax ?? 1 << 20;
  }

  get listeners(): number {
    return this.clients.size;
  }

  attach(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'access-control-allow-origin': '*',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    // retry: how soon EventSource reconnects after the stream drops.
    res.write('retry: 1000\n\n');
    this.clients.add(res);
    const drop = () => {
      this.clients.delete(res);
      if (this.clients.size === 0 && this.timer !== null) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
    req.once('close', drop);
    res.once('close', drop);
    this.send(res, 'hello', { nodeId: this.o.nodeId, transitions: this.transitions });
    this.send(res, 'snapshot', this.o.snapshot());
    if (this.timer === null) {
      this.timer = setInterval(() => this.broadcast('snapshot', this.o.snapshot()), this.intervalMs);
      this.timer.unref();
    }
  }

  transition(t: Transition): void {
    this.transitions.push(t);
    if (this.transitions.length > this.transitionsMax) this.transitions.splice(0, this.transitions.length - this.transitionsMax);
    this.broadcast('transition', t);
    // The role in the page should not wait for the next tick either.
    if (this.clients.size > 0) this.broadcast('snapshot', this.o.snapshot());
  }

  private broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const frame = frameOf(event, data);
    for (const res of this.clients) this.write(res, frame);
  }

  private send(res: ServerResponse, event: string, data: unknown): void {
    this.write(res, frameOf(event, data));
  }

  private write(res: ServerResponse, frame: string): void {
    if (res.writableLength > this.bufferedBytesMax) {
      res.destroy();
      this.clients.delete(res);
      return;
    }
    res.write(frame);
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

function frameOf(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
