/** `nx serve node` as a process (infra/dev/serve.ts under tsx), for tests of the dev setup. */
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from './node-process';

export interface ServeHandle {
  pid: number;
  /** Everything it has printed so far (its own lines and the nodes' pretty logs). */
  output(): string;
  /** Resolves with the first match of `re` in the output, waiting for it as lines come. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  signal(sig: NodeJS.Signals): void;
  /** Ctrl-C (SIGINT) unless it has exited already; resolves once it has. */
  stop(): Promise<void>;
}

export function startServe(args: string[], env: NodeJS.ProcessEnv): ServeHandle {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', `${REPO_ROOT}infra/dev/serve.ts`, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    pid: child.pid!,
    output: () => out,
    exited,
    signal: (sig) => void child.kill(sig),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
    },
    waitFor(re, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out);
          if (m === null) return;
          done();
          resolve(m);
        };
        const t = setTimeout(() => {
          done();
          reject(new Error(`serve printed no ${re} within ${timeoutMs} ms; its output:\n${out}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(t);
          waiters.delete(check);
        };
        waiters.add(check);
        void exited.then(() => {
          if (!waiters.has(check)) return;
          done();
          reject(new Error(`serve exited before printing ${re}; its output:\n${out}`));
        });
        check();
      });
    },
  };
}
