/** The entry-point side of the library: printing, and the exit codes every binary shares. */
import { CliError } from './errors';
import type { Flag, Values } from './flags';
import { parseCommand, type Command } from './parse';

/** Exit code of a usage error: a bad, missing or unknown flag. */
export const USAGE_EXIT = 2;

/** Prints a CliError as `prog: sentence` and exits 2; anything else is left to the caller. */
export function exitOnCliError(prog: string, err: unknown): void {
  if (err instanceof CliError) {
    process.stderr.write(`${prog}: ${err.message}\n`);
    process.exit(USAGE_EXIT);
  }
}

/**
 * For a binary's entry point: --help and --version print and exit 0; a CliError from
 * the flags or from `build` (the binary's checks across flags) prints one line and
 * exits 2. Returns what `build` makes of the values.
 */
export function commandLine<const F extends readonly Flag[], T>(
  cmd: Command<F>,
  build: (values: Values<F>, positionals: readonly string[]) => T,
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): T {
  try {
    const p = parseCommand(cmd, argv, env);
    if (p.kind === 'run') return build(p.values, p.positionals);
    process.stdout.write(`${p.text}\n`);
    process.exit(0);
  } catch (err) {
    exitOnCliError(cmd.prog, err);
    throw err;
  }
}
