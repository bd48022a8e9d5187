/**
 * `txtest-loadgen req <subject> '<json>'`: one request by hand, in JSON, printed as
 * JSON. The subject is relative to prefix.cluster (tx, query, status.n1) unless it
 * starts with the prefix. The NATS and cluster flags are the node's and the loadgen's.
 */
import { headers } from '@nats-io/transport-node';
import { CliError, type Command, type Values } from '@txtest/cli';
import { connectNats, NATS_FLAGS, natsSettings, SUBJECT_FLAGS, type NatsSettings } from '@txtest/transport-nats';

/** How long the one request waits for its reply. */
const REPLY_TIMEOUT_MS = 5000;

const REQ_FLAGS = [...NATS_FLAGS, ...SUBJECT_FLAGS] as const;

export const REQ_COMMAND: Command<typeof REQ_FLAGS> = {
  prog: 'txtest-loadgen req',
  usage: ["[flags] <tx|query|status.<node>> ['<json body>']"],
  about: [
    'Sends one JSON request to <prefix>.<cluster>.<subject> (or to a full subject that starts with',
    'the prefix) and prints the JSON reply; the body defaults to {}. In a sharded cluster shard k',
    'answers tx.<k> and query.<k>.',
  ],
  flags: REQ_FLAGS,
  positionals: { max: 2, names: 'a subject and a JSON body' },
};

export interface ReqPlan {
  readonly nats: NatsSettings;
  readonly subject: string;
  readonly body: string;
}

export function reqPlan(v: Values<typeof REQ_FLAGS>, positionals: readonly string[]): ReqPlan {
  const [subject, body = '{}'] = positionals;
  if (subject === undefined) throw new CliError('missing the subject: tx, query or status.<node> (see --help)');
  try {
    JSON.parse(body);
  } catch (err) {
    throw new CliError(`the body is not JSON: ${(err as Error).message}`);
  }
  const full = subject.startsWith(`${v.prefix}.`) ? subject : `${v.prefix}.${v.cluster}.${subject}`;
  return { nats: natsSettings(v), subject: full, body };
}

/** Sends the request; exit code 1 when it got no reply. */
export async function req(plan: ReqPlan): Promise<number> {
  const nc = await connectNats(plan.nats, 'txtest-loadgen-req');
  const h = headers();
  h.set('Content-Type', 'application/json');
  try {
    const m = await nc.request(plan.subject, new TextEncoder().encode(plan.body), { timeout: REPLY_TIMEOUT_MS, headers: h });
    process.stdout.write(`${new TextDecoder().decode(m.data)}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`txtest-loadgen req: ${plan.subject}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await nc.close();
  }
}
