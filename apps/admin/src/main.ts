#!/usr/bin/env node
/**
 * txtest-admin: the operator's tools (docs/OPERATIONS.md).
 *
 *   txtest-admin verify <data-dir>                      check a stopped node's files
 *   txtest-admin inspect <data-dir> [--from] [--to]     its log records as JSON lines
 *   txtest-admin status [flags]                         both nodes side by side
 *   txtest-admin switchover [flags]                     a planned role swap
 *
 * Exit codes: 0 done, 1 damage found or the cluster said no, 2 bad arguments.
 */
import { CliError, commandLine, exitOnCliError, USAGE_EXIT, version } from '@txtest/cli';
import { INSPECT_COMMAND, inspect } from './inspect';
import { pairStatus, STATUS_COMMAND } from './pair-status';
import { SWITCHOVER_COMMAND, switchover } from './switchover';
import { verify, VERIFY_COMMAND } from './verify';

const PROG = 'txtest-admin';
const out = (line: string) => void process.stdout.write(`${line}\n`);
const err = (line: string) => void process.stderr.write(`${line}\n`);

const USAGE = [
  `usage: ${PROG} <command> [flags]`,
  '',
  'commands:',
  '  verify <data-dir>                   check every log segment, snapshot and the epoch record of a stopped node',
  "  inspect <data-dir> [--from] [--to]  print a stopped node's log records as JSON lines",
  "  status                              both nodes' status side by side",
  '  switchover                          a planned role swap without stopping either process',
  '',
  `${PROG} <command> --help shows the command's flags.`,
];

/** The command's promise, its usage errors reported under its own name. */
function named(prog: string, run: () => Promise<number>): Promise<number> {
  return run().catch((e: unknown) => {
    exitOnCliError(prog, e);
    throw e;
  });
}

function run(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'verify':
      return commandLine(VERIFY_COMMAND, (_v, pos) => named(VERIFY_COMMAND.prog, () => verify(pos[0], out)), rest);
    case 'inspect':
      return commandLine(INSPECT_COMMAND, (v, pos) => named(INSPECT_COMMAND.prog, () => inspect(pos[0], v, out, err)), rest);
    case 'status':
      return commandLine(STATUS_COMMAND, (v) => named(STATUS_COMMAND.prog, () => pairStatus(v, out)), rest);
    case 'switchover':
      return commandLine(SWITCHOVER_COMMAND, (v) => named(SWITCHOVER_COMMAND.prog, () => switchover(v, out)), rest);
    case '--version':
      out(`${PROG} ${version()}`);
      return Promise.resolve(0);
    case '--help':
    case '-h':
      for (const l of USAGE) out(l);
      return Promise.resolve(0);
    default:
      throw new CliError(
        command === undefined
          ? 'missing the command: verify, inspect, status or switchover (see --help)'
          : `unknown command "${command}": verify, inspect, status or switchover (see --help)`,
      );
  }
}

try {
  run(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      exitOnCliError(PROG, e);
      err(`${PROG}: ${e.message}`);
      process.exit(1);
    },
  );
} catch (e) {
  exitOnCliError(PROG, e);
  err(`${PROG}: ${(e as Error).message}`);
  process.exit(USAGE_EXIT);
}
