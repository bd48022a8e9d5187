/**
 * Real node processes for process tests: spawned from the repo's bin (tsx in-process,
 * so the PID is the node's own), their pino lines parsed as they come, killed by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const NODE_BIN = `${REPO_ROOT}apps/node/bin/txtest-node.js`;

export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

export interface NodeProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly lines: LogLine[];
  /** Raw stderr, for failure messages. */
  stderr(): string;
  /** Resolves with the first log line (past or future) matching, or rejects after timeoutMs or on exit. */
  waitForLog(match: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

export function spawnNode(args: string[], env: NodeJS.ProcessEnv = {}): NodeProcess {
  const child = spawn(process.execPath, [NODE_BIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const watchers = new Set<(l: LogLine) => void>();
  let buf = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const text = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text };
      }
      lines.push(line);
      for (const w of watchers) w(line);
    }
  });
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-20_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    pid: child.pid!,
    child,
    lines,
    stderr: () => err,
    exited,
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    waitForLog(match, timeoutMs = 30_000) {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<LogLine>((resolve, reject) => {
        const done = () => {
          watchers.delete(w);
          clearTimeout(t);
        };
        const w = (l: LogLine) => {
          if (match(l)) {
            done();
            resolve(l);
          }
        };
        const t = setTimeout(() => {
          done();
          reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${err.slice(-2000)}; last lines: ${JSON.stringify(lines.slice(-5))}`));
        }, timeoutMs);
        watchers.add(w);
        void exited.then(({ code, signal }) => {
          if (!watchers.has(w)) return;
          done();
          reject(new Error(`node exited (code ${code}, signal ${signal}) before the expected log line; stderr: ${err.slice(-2000)}`));
        });
      });
    },
  };
}

/**
 * Spawns a node and waits for its "started" line; a standalone node also until it
 * serves (its role reaches solo, a moment after the process is up). Returns the
 * process and its HTTP address.
 */
export async function startNode(args: string[], env: NodeJS.ProcessEnv = {}): Promise<NodeProcess & { http: string }> {
  const p = spawnNode(args, env);
  const line = await p.waitForLog((l) => l.msg === 'started');
  if (args.includes('--standalone')) await p.waitForLog((l) => l.to === 'solo');
  return Object.assign(p, { http: String(line.http) });
}

/**
 * Every process's log lines (and stderr) in `dir`, one file each, numbered per node id in
 * start order (n1-1.log, n2-1.log, n1-2.log, ...): what a benchmark or drill keeps so a
 * stall or a failover gap can be attributed afterwards.
 */
export function writeProcessLogs(dir: string, started: readonly { id: string; proc: NodeProcess }[]): void {
  mkdirSync(dir, { recursive: true });
  const seen = new Map<string, number>();
  for (const { id, proc } of started) {
    const n = (seen.get(id) ?? 0) + 1;
    seen.set(id, n);
    writeFileSync(join(dir, `${id}-${n}.log`), proc.lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    writeFileSync(join(dir, `${id}-${n}.stderr`), proc.stderr());
  }
}
