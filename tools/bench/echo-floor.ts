/**
 * The floor under the node: a NATS responder that decodes each tx message and answers
 * every entry with a reply of the node's shape (and, with EVENTS=1, publishes one event
 * per entry), doing no processing at all. Its CPU per update is what the node costs
 * before any of its own work. Run: npx tsx tools/bench/echo-floor.ts nats://127.0.0.1:PORT
 */
import { connect } from '@nats-io/transport-node';
import { packMsgpack, unpackMsgpack } from '@txtest/protocol';

const nc = await connect({ servers: process.argv[2], noAsyncTraces: true });
const events = process.env.EVENTS === '1';
let seq = 0;
nc.subscribe('txtest.default.tx', {
  callback: (_err, m) => {
    const body = unpackMsgpack(m.data) as { batch?: { id: string; asset: string; op: string }[] };
    const entries = body.batch ?? [body as { id: string; asset: string; op: string }];
    const replies = entries.map((e) => ({ id: e.id, ok: true, asset: e.asset, version: 1, seq: ++seq, epoch: 1, result: { balance: seq } }));
    if (events)
      for (const r of replies)
        nc.publish(`txtest.default.events.${r.asset}`, packMsgpack({ asset: r.asset, version: 1, seq: r.seq, epoch: 1, op: 'credit', result: r.result }));
    m.respond(packMsgpack(body.batch ? { batch: replies } : replies[0]));
  },
});
console.log(JSON.stringify({ msg: 'serving', pid: process.pid }));
