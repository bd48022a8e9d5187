/**
 * The peer probe on a hand-moved clock and a transport whose requests the test answers:
 * no probe while the peer speaks, probes every fifth of an interval once it has been
 * silent for one and a half, PEER_GONE only for "no responders" to a probe sent after
 * the peer last spoke, once per silence, and never outside the watching roles.
 */
import { describe, expect, it } from 'vitest';
import { PeerProbe } from '../src/pair/peer-probe';
import { NO_RESPONDERS, type Transport } from '../src/transport';
import { ManualClock } from './helpers/manual-clock';

interface Pending {
  subject: string;
  at: number;
  resolve(b: Uint8Array): void;
  reject(e: unknown): void;
}

function harness() {
  const clock = new ManualClock();
  const requests: Pending[] = [];
  const transport: Pick<Transport, 'request'> = {
    request: (subject) => new Promise((resolve, reject) => requests.push({ subject, at: clock.now(), resolve, reject })),
  };
  let lastPeerAt = 0;
  let watching = true;
  const gone: number[] = [];
  const probe = new PeerProbe({
    transport: transport as Transport,
    subject: 'txtest.c._node.n2',
    clock,
    intervalMs: 50,
    timeoutMs: 200,
    lastPeerAt: () => lastPeerAt,
    watching: () => watching,
    onGone: (silentMs) => void gone.push(silentMs),
  });
  return {
    clock,
    requests,
    gone,
    probe,
    speak: () => void (lastPeerAt = clock.now()),
    setWatching: (v: boolean) => void (watching = v),
  };
}

const noResponders = () => Object.assign(new Error('no responders'), { code: NO_RESPONDERS });
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('peer probe', () => {
  it('sends nothing while the peer speaks at least every interval', () => {
    const h = harness();
    h.probe.start();
    for (let i = 0; i < 40; i++) {
      h.clock.advance(50);
      h.speak();
    }
    expect(h.requests).toHaveLength(0);
    expect(h.probe.sent).toBe(0);
  });

  it('probes the peer subject every fifth of an interval once it has been silent for one and a half', () => {
    const h = harness();
    h.probe.start();
    h.clock.advance(74);
    expect(h.requests).toHaveLength(0);
    h.clock.advance(1);
    expect(h.requests.map((r) => [r.subject, r.at])).toEqual([['txtest.c._node.n2', 75]]);
    h.clock.advance(30);
    expect(h.requests.map((r) => r.at)).toEqual([75, 85, 95, 105]);
    // The peer speaks: probing stops until it is silent again for 75 ms.
    h.speak();
    h.clock.advance(74);
    expect(h.requests).toHaveLength(4);
    h.clock.advance(1);
    expect(h.requests).toHaveLength(5);
  });

  it('reports the peer gone on "no responders", once per silence, with how long it was silent', async () => {
    const h = harness();
    h.probe.start();
    h.clock.advance(95);
    h.requests[0]!.reject(noResponders());
    h.requests[1]!.reject(noResponders());
    await settle();
    expect(h.gone).toEqual([95]);
    // No more probes until the peer has spoken again.
    const sent = h.probe.sent;
    h.clock.advance(100);
    expect(h.probe.sent).toBe(sent);
    h.speak();
    h.clock.advance(75);
    h.requests.at(-1)!.reject(noResponders());
    await settle();
    expect(h.gone).toEqual([95, 75]);
  });

  it('a timeout or an answer is no evidence: only the heartbeat timeout judges a stalled peer', async () => {
    const h = harness();
    h.probe.start();
    h.clock.advance(200);
    h.requests[0]!.reject(Object.assign(new Error('timeout'), { code: 'TIMEOUT' }));
    h.requests[1]!.resolve(new Uint8Array(0));
    await settle();
    expect(h.gone).toEqual([]);
  });

  it('"no responders" to a probe sent before the peer spoke again is stale (a reconnect)', async () => {
    const h = harness();
    h.probe.start();
    h.clock.advance(75);
    h.clock.advance(1);
    h.speak();
    h.requests[0]!.reject(noResponders());
    await settle();
    expect(h.gone).toEqual([]);
  });

  it('does not probe outside the watching roles, nor after stop', async () => {
    const h = harness();
    h.setWatching(false);
    h.probe.start();
    h.clock.advance(1_000);
    expect(h.requests).toHaveLength(0);
    h.setWatching(true);
    // Long silent already: the first check in a watching role probes.
    h.clock.advance(75);
    const sent = h.requests.length;
    expect(sent).toBeGreaterThan(0);
    h.probe.stop();
    for (const r of h.requests) r.reject(noResponders());
    await settle();
    h.clock.advance(1_000);
    expect(h.requests).toHaveLength(sent);
    expect(h.gone).toEqual([]);
    expect(h.clock.pending).toBe(0);
  });
});
