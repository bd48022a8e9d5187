/**
 * txtest-sim: runs seeds of the deterministic simulator.
 *
 *   nx run sim:run -- --seeds 10000            seeds 1..10000
 *   nx run sim:run -- --from 500 --to 900      a range
 *   nx run sim:run -- --seed 1234 --trace      one seed, every event printed
 *   --faults reply-before-standby-ack,...      break the core on purpose (faults.ts)
 *   --steps N   fault-phase steps per seed (default 300, 5 ms each)
 *   --jobs N    worker processes (default: the number of cores)
 *   --keep-going  do not stop at the first failing seed
 *
 * Prints the failing seed and the first violated invariant; the same seed replays
 * identically (same trace hash). Exit code 1 when a seed failed.
 */
import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { parseFaults, type FaultName } from '@txtest/cluster';
import { runSeed, type RunResult } from './world';

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

function parse(argv: string[]): Args {
  const a: Args = { from: 1, to: 1000, trace: false, faults: [], steps: 300, jobs: availableParallelism(), keepGoing: false, quiet: false };
  const num = (i: number) => {
    const v = Number(argv[i + 1]);
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${argv[i]} needs a non-negative integer, got "${argv[i + 1] ?? ''}"`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    if (k === '--seeds') {
      a.from = 1;
      a.to = num(i++);
    } else if (k === '--from') a.from = num(i++);
    else if (k === '--to') a.to = num(i++);
    else if (k === '--seed') a.from = a.to = num(i++);
    else if (k === '--trace') a.trace = true;
    else if (k === '--faults') a.faults = [...parseFaults(argv[++i])];
    else if (k === '--steps') a.steps = num(i++);
    else if (k === '--jobs') a.jobs = Math.max(1, num(i++));
    else if (k === '--keep-going') a.keepGoing = true;
    else if (k === '--quiet') a.quiet = true;
    else if (k === '--') continue;
    else throw new Error(`unknown argument "${k}" (see libs/sim/src/cli.ts)`);
  }
  if (a.to < a.from) throw new Error(`--to ${a.to} is below --from ${a.from}`);
  return a;
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

async function main(): Promise<number> {
  if (process.env.TXTEST_SIM_WORKER === '1') {
    await worker();
    return -1;
  }
  const a = parse(process.argv.slice(2));
  const count = a.to - a.from + 1;
  if (a.trace && count === 1) {
    const r = await runSeed({ seed: a.from, steps: a.steps, faults: a.faults, trace: true, onTraceLine: (l) => process.stdout.write(`${l}\n`) });
    process.stdout.write(`\nseed ${r.seed}: ${r.ok ? 'ok' : 'FAILED'}; ${r.events} events, ${(r.simMs / 1000).toFixed(3)} s simulated, ${r.answered}/${r.requests} requests answered; trace hash ${r.traceHash}\n`);
    if (!r.ok) process.stdout.write(`${describe(r)}\n`);
    return r.ok ? 0 : 1;
  }
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
      `${events} events (${((events / wallS) | 0)} events/s), ${(simMs / 3_600_000).toFixed(2)} simulated hours = ${((simMs / 3_600_000) / (wallS / 60)).toFixed(2)} simulated hours per wall minute\n`,
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
    process.stderr.write(`txtest-sim: ${err.message}\n`);
    process.exit(2);
  },
);
