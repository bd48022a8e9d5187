/** Running the loadgen and admin CLIs as a user would (node bin/txtest-loadgen.js ...), to their end. */
import { spawn } from 'node:child_process';
import { REPO_ROOT } from './node-process';

export const LOADGEN_BIN = `${REPO_ROOT}apps/loadgen/bin/txtest-loadgen.js`;
export const ADMIN_BIN = `${REPO_ROOT}apps/admin/bin/txtest-admin.js`;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the loadgen with `args` (and `env` over this process's), killing it after `timeoutMs`. */
export function runLoadgen(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 90_000): Promise<CliResult> {
  return runBin(LOADGEN_BIN, args, env, timeoutMs);
}

/** Runs txtest-admin with `args`, as runLoadgen does the loadgen. */
export function runAdmin(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 90_000): Promise<CliResult> {
  return runBin(ADMIN_BIN, args, env, timeoutMs);
}

function runBin(bin: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${bin} ${args.join(' ')} did not finish within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    // 'close', not 'exit': by then stdout and stderr have been read to their end.
    child.once('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}
