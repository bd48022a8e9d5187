/**
 * The node's diagram, rendered once by a child process at the lowest CPU priority
 * (the export command, writing to stdout) and cached. ELK is synchronous and takes
 * seconds on a busy machine: run on the node's event loop it would stall heartbeats
 * past the peer timeout, and even in a worker thread it competes for the CPU at the
 * node's own priority. At nice 19 it only uses what the node leaves idle.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';

const EXPORT_SCRIPT = fileURLToPath(new URL('./export-diagram.ts', import.meta.url));
const LOWEST_PRIORITY = 19;

let cached: Promise<string> | null = null;
let running: ChildProcess | null = null;

export function roleDiagramSvgInBackground(): Promise<string> {
  cached ??= new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', EXPORT_SCRIPT, '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    running = child;
    try {
      setPriority(child.pid!, LOWEST_PRIORITY);
    } catch {
      // Not fatal: the render still runs off the event loop, just at normal priority.
    }
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      running = null;
      if (code === 0 && out.startsWith('<svg')) resolve(out);
      else reject(new Error(`diagram render exited (code ${code}, signal ${signal}): ${err.trim()}`));
    });
  }).catch((e: Error) => {
    cached = null; // the next request tries again
    throw e;
  });
  return cached;
}

/** Stops a render still running (at node shutdown), by its PID. */
export function stopDiagramRender(): void {
  running?.kill('SIGKILL');
}
