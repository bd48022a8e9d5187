/**
 * txtest-sim: runs seeds of the deterministic simulator.
 *
 *   nx run sim:run -- --seeds 10000            seeds 1..10000
 *   nx run sim:run -- --from 500 --to 900      a range
 *   nx run sim:run -- --seed 1234 --trace      one seed, every event printed
 *   --help                                     every flag
 *
 * Prints the failing seed and the first violated invariant; the same seed replays
 * identically (same trace hash). Exit code 1 when a seed failed.
 */
import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { CliError, commandLine, exitOnCliError, ValueError, type Command, type Flag, type Values } from '@txtest/cli';
import { parseFaults, type FaultName } from '@txtest/cluster';
import { runSeed, type RunResult } from './world';

function faultNames(raw: string): FaultName[] {
  try {
    return [...parseFaults(raw)];
  } catch (err) {
    throw new ValueError((err as Error).message);
  }
}

const SIM_FLAGS = [
  { name: 'seeds', type: 'int', min: 1, help: 'seeds 1..N' },
  { name: 'from', type: 'int', min: 0, defaultHelp: '1', help: 'first seed of a range' },
  { name: 'to', type: 'int', min: 0, defaultHelp: '1000', help: 'last seed of a range' },
  { name: 'seed', type: 'int', min: 0, help: 'one seed' },
  { name: 'trace', type: 'bool', help: 'with one seed: print every event and log line' },
  { name: 'faults', type: 'string', value: 'a,b,...', parse: faultNames, help: 'break the core on purpose (faults.ts), e.g. reply-before-standby-ack' },
  { name: 'steps', type: 'int', min: 0, max: 1_000_000, default: '300', help: 'fault-phase steps per seed (5 ms each)' },
  { name: 'jobs', type: 'int', min: 1, max: 1024, defaultHelp: 'the number of cores', help: 'worker processes' },
  { name: 'keep-going', type: 'bool', help: 'do not stop at the first failing seed' },
  { name: 'quiet', type: 'bool', help: 'no progress lines' },
] as const satisfies readonly Flag[];

const SIM_COMMAND: Command<typeof SIM_FLAGS> = {
  prog: 'txtest-sim',
  usage: ['[--seeds N | --from A --to B | --seed S [--trace]] [flags]'],
  about: ['Runs seeds of the deterministic simulator (docs/SIMULATOR.md); exit code 1 when a seed failed.'],
  flags: SIM_FLAGS,
};

interface Args {
  from: number;
  to: number;
  trace: boolean;
  faults: FaultName[];
  steps: number;
  jobs: number;
  keepGoing: boolean;
  quiet: boolean;
}

function simArgs(v: Values<typeof SIM_FLAGS>): Args {
  if (v.seed !== undefined && (v.seeds !== undefined || v.from !== undefined || v.to !== undefined))
    throw new CliError('--seed names one seed: give it without --seeds, --from or --to');
  if (v.seeds !== undefined && (v.from !== undefined || v.to !== undefined)) throw new CliError('--seeds runs 1..N: give it or --from/--to, not both');
  const from = v.seed ?? v.from ?? 1;
  const to = v.seed ?? v.seeds ?? v.to ?? 1000;
  if (to < from) throw new CliError(`--to ${to} is below --from ${from}`);
  return {
    from,
    to,
    trace: v.trace,
    faults: v.faults ?? [],
    steps: v.steps,
    jobs: v.jobs ?? availableParallelism(),
    keepGoing: v['keep-going'],
    quiet: v.quiet,
  };
}

function describe(r: RunResult): string {
  const v = r.violation!;
  return (
    `seed ${r.seed} FAILED: ${v.invariant} at ${(v.t / 1000).toFixed(6)}s simulated\n  ${v.detail}\n` +
    `  config: ${r.config}\n  faults: ${r.faultsInjected.join('; ') || 'none'}\n  trace hash ${r.traceHash}; replay: nx run sim:run -- --seed ${r.seed} --trace${r.config.includes('FAULTS') ? ` --faults ${r.config.split('FAULTS ')[1]}` : ''}`
  );
}

/** A worker runs the seeds it is sent, one at a time, and answers with each result. */
async function worker(): Promise<void> {
  process.on('message', async (m: { seed: number; steps: number; faults: FaultName[] } | 'exit') => {
    if (m === 'exit') return process.exit(0);
    const r = await runSeed({ seed: m.seed, steps: m.steps, faults: m.faults });
    process.send!({ ...r, trace: null });
  });
  process.send!('ready');
}

/** One seed with its trace on stdout, then its verdict. */
async function traceOne(a: Args): Promise<number> {
  const r = await runSeed({ seed: a.from, steps: a.steps, faults: a.faults, trace: true, onTraceLine: (l) => process.stdout.write(`${l}\n`) });
  process.stdout.write(
    `\nseed ${r.seed}: ${r.ok ? 'ok' : 'FAILED'}; ${r.events} events, ${(r.simMs / 1000).toFixed(3)} s simulated, ${r.answered}/${r.requests} requests answered; trace hash ${r.traceHash}\n`,
  );
  if (!r.ok) process.stdout.write(`${describe(r)}\n`);
  return r.ok ? 0 : 1;
}

async function main(): Promise<number> {
  if (process.env.TXTEST_SIM_WORKER === '1') {
    await worker();
    return -1;
  }
  // nx run sim:run -- <flags> may pass the `--` on; it ends nothing here.
  const a = commandLine(
    SIM_COMMAND,
    simArgs,
    process.argv.slice(2).filter((x, i) => i > 0 || x !== '--'),
  );
  const count = a.to - a.from + 1;
  if (a.trace && count === 1) return traceOne(a);
  const t0 = performance.now();
  let done = 0;
  let failed = 0;
  let events = 0;
  let simMs = 0;
  let firstFail: RunResult | null = null;
  let next = a.from;
  const jobs = Math.min(a.jobs, count);
  const progress = () => {
    if (a.quiet || done % 100 !== 0) return;
    const s = (performance.now() - t0) / 1000;
    process.stderr.write(`  ${done}/${count} seeds, ${failed} failed, ${(done / s).toFixed(1)} seeds/s\n`);
  };
  await new Promise<void>((resolveAll) => {
    let running = jobs;
    for (let j = 0; j < jobs; j++) {
      const child = fork(process.argv[1]!, [], { env: { ...process.env, TXTEST_SIM_WORKER: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const feed = () => {
        if (next > a.to || (firstFail !== null && !a.keepGoing)) {
          child.send('exit');
          return;
        }
        child.send({ seed: next++, steps: a.steps, faults: a.faults });
      };
      child.on('message', (m: RunResult | 'ready') => {
        if (m === 'ready') return feed();
        done++;
        events += m.events;
        simMs += m.simMs;
        if (!m.ok) {
          failed++;
          if (firstFail === null || m.seed < firstFail.seed) firstFail = m;
          process.stdout.write(`${describe(m)}\n`);
        }
        progress();
        feed();
      });
      child.on('exit', () => {
        if (--running === 0) resolveAll();
      });
    }
  });
  const wallS = (performance.now() - t0) / 1000;
  process.stdout.write(
    `\n${done} seeds (${a.from}..${a.from + done - 1} range) in ${wallS.toFixed(1)} s on ${jobs} process(es): ${(done / wallS).toFixed(1)} seeds/s, ` +
      `${events} events (${(events / wallS) | 0} events/s), ${(simMs / 3_600_000).toFixed(2)} simulated hours = ${(simMs / 3_600_000 / (wallS / 60)).toFixed(2)} simulated hours per wall minute\n`,
  );
  if (firstFail !== null) {
    const f = firstFail as RunResult;
    process.stdout.write(`FAILED: ${failed} seed(s); first failing seed ${f.seed}: ${f.violation!.invariant}\n`);
    return 1;
  }
  process.stdout.write(`all ${done} seeds passed every invariant\n`);
  return 0;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: Error) => {
    exitOnCliError(SIM_COMMAND.prog, err);
    process.stderr.write(`txtest-sim: ${err.message}\n`);
    process.exit(2);
  },
);
