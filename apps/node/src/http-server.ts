/**
 * The node's HTTP endpoints, bound to loopback by default:
 *
 *   GET /healthz       200 while the process is alive
 *   GET /readyz        200 only in primary, solo or standby (PROTOCOL.md section 5)
 *   GET /status        the status object (?digest=true adds the digest)
 *   GET /metrics       Prometheus text format
 *   GET /events        Server-Sent Events: status snapshots and role transitions (live-feed.ts)
 *   GET /              the visualizer page, with /visualizer.css, /visualizer.js
 *   GET /diagram.svg   the role machine's diagram
 *
 * Every GET answers with `Access-Control-Allow-Origin: *`, so a page served by one node
 * can follow the other node's stream.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface HttpHandlers {
  status(digest: boolean): unknown | Promise<unknown>;
  role(): string;
  metrics(): Promise<{ contentType: string; body: string }>;
  events(req: IncomingMessage, res: ServerResponse): void;
}

const READY_ROLES = new Set(['primary', 'solo', 'standby']);

/**
 * The page's files, read once: small, self-contained, no CDN. The diagram is the SVG
 * `npm run diagram` renders from the role machine's definition (@xstate/graph + elkjs):
 * the machine cannot change while the node runs, and a test fails when the committed
 * file is not what the definition renders today.
 */
const PAGE_FILES: Record<string, { file: string; type: string }> = {
  '/diagram.svg': { file: 'role-machine.svg', type: 'image/svg+xml; charset=utf-8' },
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/visualizer.css': { file: 'visualizer.css', type: 'text/css; charset=utf-8' },
  '/visualizer.js': { file: 'visualizer.js', type: 'text/javascript; charset=utf-8' },
};

function loadPage(): Map<string, { body: Buffer; type: string }> {
  const out = new Map<string, { body: Buffer; type: string }>();
  for (const [path, { file, type }] of Object.entries(PAGE_FILES)) {
    out.set(path, { body: readFileSync(new URL(`./visualizer/${file}`, import.meta.url)), type });
  }
  return out;
}

export class HttpServer {
  private server: Server | null = null;
  private readonly page = loadPage();
  address = '';

  constructor(private readonly handlers: HttpHandlers) {}

  async listen(host: string, port: number): Promise<string> {
    const server = createServer((req, res) => {
      this.route(req, res).catch((err: Error) => {
        if (!res.headersSent) send(res, 500, { error: err.message });
        else res.destroy();
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address();
    this.address = typeof addr === 'object' && addr !== null ? `${host}:${addr.port}` : `${host}:${port}`;
    return this.address;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: `${req.method} is not served; every endpoint is GET` });
    const file = this.page.get(url.pathname);
    if (file !== undefined) return sendText(res, 200, file.type, file.body);
    switch (url.pathname) {
      case '/healthz':
        return send(res, 200, { ok: true });
      case '/readyz': {
        const role = this.handlers.role();
        return send(res, READY_ROLES.has(role) ? 200 : 503, { ready: READY_ROLES.has(role), role });
      }
      case '/status':
        return send(res, 200, await this.handlers.status(url.searchParams.get('digest') === 'true'));
      case '/metrics': {
        const m = await this.handlers.metrics();
        return sendText(res, 200, m.contentType, m.body);
      }
      case '/events':
        if (req.method !== 'GET') return send(res, 405, { error: '/events is a stream: GET it' });
        return this.handlers.events(req, res);
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
  sendText(res, code, 'application/json', JSON.stringify(body));
}

function sendText(res: ServerResponse, code: number, type: string, body: string | Buffer): void {
  res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
  res.end(body);
}
