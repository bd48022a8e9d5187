/**
 * The node's HTTP endpoints, bound to loopback by default: /healthz (alive), /readyz
 * (200 only in primary, solo or standby) and /status (PROTOCOL.md section 5).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface HttpHandlers {
  status(digest: boolean): unknown;
  role(): string;
}

const READY_ROLES = new Set(['primary', 'solo', 'standby']);

export class HttpServer {
  private server: Server | null = null;
  address = '';

  constructor(private readonly handlers: HttpHandlers) {}

  async listen(host: string, port: number): Promise<string> {
    const server = createServer((req, res) => this.route(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address();
    this.address = typeof addr === 'object' && addr !== null ? `${host}:${addr.port}` : `${host}:${port}`;
    return this.address;
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    switch (url.pathname) {
      case '/healthz':
        return send(res, 200, { ok: true });
      case '/readyz': {
        const role = this.handlers.role();
        return send(res, READY_ROLES.has(role) ? 200 : 503, { ready: READY_ROLES.has(role), role });
      }
      case '/status':
        return send(res, 200, this.handlers.status(url.searchParams.get('digest') === 'true'));
      default:
        return send(res, 404, { error: `no such endpoint ${url.pathname}` });
    }
  }

  async close(): Promise<void> {
    const s = this.server;
    if (s === null) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(text);
}
