/**
 * `txtest-loadgen req <subject> '<json>'`: one request by hand, in JSON, printed as
 * JSON. The subject is relative to prefix.cluster (tx, query, status.n1) unless it
 * contains a dot-separated full subject starting with the prefix.
 */
import { connect, headers } from '@nats-io/transport-node';

export async function req(argv: string[]): Promise<void> {
  let nats = process.env.TXTEST_NATS_URL ?? 'nats://127.0.0.1:4222';
  let prefix = 'txtest';
  let cluster = 'default';
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--nats') nats = argv[++i] ?? nats;
    else if (argv[i] === '--prefix') prefix = argv[++i] ?? prefix;
    else if (argv[i] === '--cluster') cluster = argv[++i] ?? cluster;
    else rest.push(argv[i]!);
  }
  const [subject, body = '{}'] = rest;
  if (subject === undefined) {
    process.stderr.write("usage: txtest-loadgen req [--nats URL] <tx|query|status.<node>> '<json body>'\n");
    process.exit(2);
  }
  try {
    JSON.parse(body);
  } catch (err) {
    process.stderr.write(`txtest-loadgen req: the body is not JSON: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const full = subject.startsWith(`${prefix}.`) ? subject : `${prefix}.${cluster}.${subject}`;
  const nc = await connect({ servers: nats, noAsyncTraces: true });
  const h = headers();
  h.set('Content-Type', 'application/json');
  try {
    const m = await nc.request(full, new TextEncoder().encode(body), { timeout: 5000, headers: h });
    process.stdout.write(`${new TextDecoder().decode(m.data)}\n`);
  } catch (err) {
    process.stderr.write(`txtest-loadgen req: ${full}: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await nc.close();
  }
}
