/** Loadgen flags; a bad one is one sentence and exit code 2. */
export interface LoadgenArgs {
  nats: string;
  prefix: string;
  cluster: string;
  inFlight: number;
  clients: number;
  durationS: number;
  warmupS: number;
  batch: boolean;
  assets: number;
  json: boolean;
}

const HELP = `Usage: txtest-loadgen [flags]
  --nats <url>        NATS URL [nats://127.0.0.1:4222]
  --prefix <p>        subject prefix [txtest]
  --cluster <c>       cluster name [default]
  --in-flight <n>     concurrent updates (closed loop) [64]
  --clients <n>       client connections sharing the in-flight window [1]
  --duration <s>      measured seconds [5]
  --warmup <s>        seconds before measuring [1]
  --batch on|off      client batching [on]
  --assets <n>        accounts to spread credits over [10000]
  --json              print the result as one JSON line`;

function fail(msg: string): never {
  process.stderr.write(`txtest-loadgen: ${msg}\n`);
  process.exit(2);
}

function num(flag: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n < min) fail(`--${flag} must be a number >= ${min}, not "${v ?? ''}"`);
  return n;
}

export function parseArgs(argv: string[]): LoadgenArgs {
  const a: LoadgenArgs = { nats: 'nats://127.0.0.1:4222', prefix: 'txtest', cluster: 'default', inFlight: 64, clients: 1, durationS: 5, warmupS: 1, batch: true, assets: 10_000, json: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const next = () => argv[++i];
    switch (flag) {
      case '--help': case '-h': process.stdout.write(`${HELP}\n`); process.exit(0);
      case '--nats': a.nats = next() ?? fail('--nats needs a URL'); break;
      case '--prefix': a.prefix = next() ?? fail('--prefix needs a value'); break;
      case '--cluster': a.cluster = next() ?? fail('--cluster needs a value'); break;
      case '--in-flight': a.inFlight = Math.floor(num('in-flight', next(), 1)); break;
      case '--clients': a.clients = Math.floor(num('clients', next(), 1)); break;
      case '--duration': a.durationS = num('duration', next(), 0.1); break;
      case '--warmup': a.warmupS = num('warmup', next(), 0); break;
      case '--assets': a.assets = Math.floor(num('assets', next(), 1)); break;
      case '--json': a.json = true; break;
      case '--batch': {
        const v = next();
        if (v !== 'on' && v !== 'off') fail(`--batch must be on or off, not "${v ?? ''}"`);
        a.batch = v === 'on';
        break;
      }
      default: fail(`unknown flag ${flag} (see --help)`);
    }
  }
  return a;
}
