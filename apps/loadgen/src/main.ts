#!/usr/bin/env node
/**
 * txtest-loadgen: load a TxTest cluster and report honest numbers.
 *
 *   txtest-loadgen [flags]           a load run (see --help)
 *   txtest-loadgen drill [flags]     the failover drill on a private pair
 *   txtest-loadgen req <subj> <json> one request by hand
 *
 * Exit codes: 0 done, 1 the audit found a violation (or the run failed), 2 bad arguments.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { commandLine, exitOnCliError } from '@txtest/cli';
import { LOAD_COMMAND, runArgs, type LoadgenArgs } from './args';
import { DRILL_COMMAND, drill, drillPlan } from './drill';
import { emitReport } from './output';
import { REQ_COMMAND, req, reqPlan } from './req';
import { LoadRun } from './run';

async function load(a: LoadgenArgs): Promise<number> {
  const run = new LoadRun(a);
  await run.start();
  // Ctrl-C ends the measured span early; the run still drains, audits and reports.
  let interrupted: () => void = () => undefined;
  const stopped = new Promise<void>((r) => (interrupted = r));
  process.once('SIGINT', interrupted);
  await Promise.race([run.measured(), stopped]);
  process.off('SIGINT', interrupted);
  const report = await run.stop();
  emitReport(a, report);
  if (report.audit !== null && !report.audit.clean) {
    process.stderr.write(`txtest-loadgen: audit FAILED with ${report.audit.violations.length} violation(s); the first: ${report.audit.violations[0]}\n`);
    return 1;
  }
  return 0;
}

const argv = process.argv.slice(2);
// Each subcommand's flags are checked (help, version, exit 2) before anything starts.
const run =
  argv[0] === 'req'
    ? req(commandLine(REQ_COMMAND, reqPlan, argv.slice(1)))
    : argv[0] === 'drill'
      ? drill(commandLine(DRILL_COMMAND, drillPlan, argv.slice(1)))
      : load(commandLine(LOAD_COMMAND, (v) => runArgs(v, availableParallelism(), randomBytes(4).toString('hex')), argv));
run.then(
  (code) => process.exit(code),
  (err: Error) => {
    exitOnCliError(LOAD_COMMAND.prog, err);
    process.stderr.write(`txtest-loadgen: ${err.message}\n`);
    process.exit(1);
  },
);
