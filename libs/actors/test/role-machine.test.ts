/**
 * The role machine in isolation: a simulated clock drives its timers, and every named
 * action is replaced by a recorder so the tests can count which effects ran and when.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor } from 'xstate';
import {
  ROLE_ACTIONS,
  ROLE_STATES,
  describeStates,
  roleChange,
  roleMachine,
  roleOf,
  type Clock,
  type RoleActionName,
  type RoleChange,
  type RoleEvent,
  type RoleInput,
  type RoleState,
} from '../src/index';

const INTERVAL = 50;
const MISSED = 4;
const TIMEOUT = INTERVAL * MISSED; // 200 ms

function harness(over: Partial<RoleInput> = {}, clock: Clock = new SimulatedClock()) {
  const calls: RoleActionName[] = [];
  const actions = Object.fromEntries(ROLE_ACTIONS.map((name) => [name, () => void calls.push(name)])) as Record<RoleActionName, () => void>;
  const actor = createActor(roleMachine.provide({ actions }), {
    input: { nodeId: 'n1', peerId: 'n2', standalone: false, heartbeatIntervalMs: INTERVAL, heartbeatMissed: MISSED, ...over },
    clock,
  });
  // The log the node would write: one line per change of role, found by comparing snapshots.
  const changes: RoleChange[] = [];
  let prev = actor.getSnapshot();
  actor.subscribe((next) => {
    const c = roleChange(prev, next);
    if (c) changes.push(c);
    prev = next;
  });
  actor.start();
  const send = (...events: RoleEvent[]) => events.forEach((e) => actor.send(e));
  return {
    actor,
    calls,
    changes,
    send,
    role: (): RoleState => roleOf(actor.getSnapshot()),
    ctx: () => actor.getSnapshot().context,
    count: (name: RoleActionName) => calls.filter((c) => c === name).length,
    /** Leaves only the calls made from now on, so a test sees the effects of its own step. */
    reset: () => void calls.splice(0),
  };
}

/** The paths from a fresh actor to each state, used as the starting point of a test. */
const PATHS: Record<Exclude<RoleState, 'stopped'>, RoleEvent[]> = {
  starting: [],
  recovering: [{ type: 'START' }],
  negotiating: [{ type: 'START' }, { type: 'RECOVERED' }],
  promoting: [{ type: 'START' }, { type: 'RECOVERED' }, { type: 'DECIDED_PRIMARY', reason: 'peer silent' }],
  primary: [
    { type: 'START' },
    { type: 'RECOVERED' },
    { type: 'DECIDED_PRIMARY', reason: 'peer silent' },
    { type: 'EPOCH_OPENED', epoch: 5 },
    { type: 'STANDBY_ATTACHED' },
  ],
  solo: [{ type: 'START' }, { type: 'RECOVERED' }, { type: 'DECIDED_PRIMARY', reason: 'peer silent' }, { type: 'EPOCH_OPENED', epoch: 5 }],
  syncing: [{ type: 'START' }, { type: 'RECOVERED' }, { type: 'DECIDED_STANDBY', reason: 'peer n2 was primary in epoch 4' }],
  standby: [{ type: 'START' }, { type: 'RECOVERED' }, { type: 'DECIDED_STANDBY', reason: 'peer n2 was primary in epoch 4' }, { type: 'SYNCED' }],
  fenced: [
    { type: 'START' },
    { type: 'RECOVERED' },
    { type: 'DECIDED_PRIMARY', reason: 'peer silent' },
    { type: 'PROMOTION_FAILED', reason: 'arbiter holds epoch 9' },
  ],
  stopping: [{ type: 'STOP', reason: 'SIGTERM' }],
};

function at(state: Exclude<RoleState, 'stopped'>, over: Partial<RoleInput> = {}) {
  const clock = new SimulatedClock();
  const h = harness(over, clock);
  h.send(...PATHS[state]);
  expect(h.role()).toBe(state);
  h.reset();
  return { ...h, clock };
}

/** A standby whose peerSilent guard the test sets: false stands for "vetoed by a stall of its own". */
function standbyWithVeto() {
  const clock = new SimulatedClock();
  let silent = false;
  const actor = createActor(roleMachine.provide({ guards: { peerSilent: () => silent } }), {
    input: { nodeId: 'n1', peerId: 'n2', standalone: false, heartbeatIntervalMs: INTERVAL, heartbeatMissed: MISSED },
    clock,
  });
  actor.start();
  for (const e of PATHS.standby) actor.send(e);
  return { clock, actor, setSilent: (v: boolean) => void (silent = v) };
}

describe('role machine: the definition', () => {
  it('lists every state in ROLE_STATES, each with a description saying what it waits for', () => {
    expect(Object.keys(roleMachine.config.states!)).toEqual([...ROLE_STATES]);
    expect(Object.keys(roleMachine.root.states)).toEqual([...ROLE_STATES]);
    const described = describeStates();
    expect(described.map((d) => d.state)).toEqual([...ROLE_STATES]);
    for (const { state, waitsFor } of described) {
      expect(waitsFor).toBe(roleMachine.root.states[state]!.description);
      // One sentence that names what the state waits for.
      expect(waitsFor).toMatch(/^[^.]*\bwaits for\b[^.]*\.$/i);
    }
    expect(described.find((d) => d.state === 'stopped')!.waitsFor).toContain('the process may exit');
  });

  it('starts in starting with the input in its context and epoch 0 by default', () => {
    const h = harness();
    expect(h.role()).toBe('starting');
    expect(h.ctx()).toEqual({
      nodeId: 'n1',
      peerId: 'n2',
      standalone: false,
      heartbeatIntervalMs: INTERVAL,
      heartbeatMissed: MISSED,
      epoch: 0,
      reason: 'created',
    });
    expect(h.calls).toEqual([]);
  });

  it('runs on a clock of the project Clock interface, not only on SimulatedClock', () => {
    let now = 0;
    const timers = new Map<number, { at: number; fn: () => void }>();
    let next = 1;
    const clock: Clock = {
      now: () => now,
      setTimeout: (fn, ms) => (timers.set(next, { at: now + ms, fn }), next++),
      clearTimeout: (h) => void timers.delete(h as number),
    };
    const advance = (ms: number) => {
      now += ms;
      for (const [id, t] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at <= now && timers.delete(id)) t.fn();
      }
    };
    const h = harness({}, clock);
    h.send(...PATHS.standby);
    advance(TIMEOUT - 1);
    expect(h.role()).toBe('standby');
    advance(1);
    expect(h.role()).toBe('promoting');
  });
});

describe('role machine: startup', () => {
  it('starting -> recovering on START', () => {
    const h = at('starting');
    h.send({ type: 'START' });
    expect(h.role()).toBe('recovering');
    expect(h.ctx().reason).toBe('data opened');
  });

  it('recovering -> negotiating on RECOVERED when paired, keeping the epoch found in the log', () => {
    const h = at('recovering');
    h.send({ type: 'RECOVERED', epoch: 4 });
    expect(h.role()).toBe('negotiating');
    expect(h.ctx().epoch).toBe(4);
    expect(h.ctx().reason).toBe('log replayed; negotiating with peer n2');
    expect(h.calls).toEqual(['sendHello']);
  });

  it('standalone: starting -> recovering -> promoting -> solo', () => {
    const h = at('starting', { standalone: true, peerId: null });
    h.send({ type: 'START' }, { type: 'RECOVERED', epoch: 2 });
    expect(h.role()).toBe('promoting');
    expect(h.ctx().reason).toContain('standalone');
    expect(h.calls).toEqual(['openEpoch']);
    h.send({ type: 'EPOCH_OPENED', epoch: 3 });
    expect(h.role()).toBe('solo');
    expect(h.ctx().epoch).toBe(3);
    expect(h.calls).toEqual(['openEpoch', 'enterSolo']);
    expect(h.changes.map((c) => `${c.from} -> ${c.to}`)).toEqual(['starting -> recovering', 'recovering -> promoting', 'promoting -> solo']);
  });
});

describe('role machine: negotiating', () => {
  it('says hello on entry and again every heartbeat interval, and stops once decided', () => {
    const h = at('recovering');
    h.send({ type: 'RECOVERED' });
    expect(h.count('sendHello')).toBe(1);
    const { clock } = h;
    clock.increment(INTERVAL - 1);
    expect(h.count('sendHello')).toBe(1);
    clock.increment(1);
    expect(h.count('sendHello')).toBe(2);
    // One step per interval: SimulatedClock fires a due timer once per increment and the
    // re-armed timer counts from the clock's new time, so one long jump would fire it once.
    for (let i = 0; i < 3; i++) clock.increment(INTERVAL);
    expect(h.count('sendHello')).toBe(5);
    // Resending hello is not a change of role: nothing more to log after recovering -> negotiating.
    expect(h.changes.filter((c) => c.to === 'negotiating')).toEqual([
      { from: 'recovering', to: 'negotiating', epoch: 0, reason: 'log replayed; negotiating with peer n2' },
    ]);
    h.send({ type: 'DECIDED_STANDBY', reason: 'peer n2 was primary in epoch 7' });
    // Stay below syncing's own peer timeout, which would go back to negotiating.
    for (let i = 0; i < 3; i++) clock.increment(INTERVAL);
    expect(h.role()).toBe('syncing');
    expect(h.count('sendHello')).toBe(5);
  });

  it('negotiating -> promoting on DECIDED_PRIMARY, which opens an epoch', () => {
    const h = at('negotiating');
    h.send({ type: 'DECIDED_PRIMARY', reason: 'forced by operator' });
    expect(h.role()).toBe('promoting');
    expect(h.ctx().reason).toBe('forced by operator');
    expect(h.calls).toEqual(['openEpoch']);
  });

  it('negotiating -> syncing on DECIDED_STANDBY, which starts the catch-up', () => {
    const h = at('negotiating');
    h.send({ type: 'DECIDED_STANDBY', reason: 'peer n2 was primary in epoch 7' });
    expect(h.role()).toBe('syncing');
    expect(h.ctx().reason).toBe('peer n2 was primary in epoch 7');
    expect(h.calls).toEqual(['startSync']);
  });
});

describe('role machine: promoting', () => {
  it('promoting -> solo on EPOCH_OPENED: every new epoch begins without a standby', () => {
    const h = at('promoting');
    h.send({ type: 'EPOCH_OPENED', epoch: 8 });
    expect(h.role()).toBe('solo');
    expect(h.ctx()).toMatchObject({ epoch: 8, reason: 'epoch 8 opened without a standby' });
    expect(h.calls).toEqual(['enterSolo']);
  });

  it('promoting -> fenced on PROMOTION_FAILED', () => {
    const h = at('promoting');
    h.send({ type: 'PROMOTION_FAILED', reason: 'arbiter holds epoch 9' });
    expect(h.role()).toBe('fenced');
    expect(h.ctx().reason).toBe('arbiter holds epoch 9');
    expect(h.calls).toEqual(['enterFenced']);
  });
});

describe('role machine: primary and solo', () => {
  it('primary: the peer timer fires exactly after interval*missed ms of silence, not before', () => {
    const h = at('primary');
    h.clock.increment(TIMEOUT - 1);
    expect(h.role()).toBe('primary');
    h.clock.increment(1);
    expect(h.role()).toBe('promoting');
    expect(h.ctx().reason).toBe('4 heartbeats missed (200 ms)');
    // Going solo opens a new epoch: leave primary, then ask for the epoch.
    expect(h.calls).toEqual(['leavePrimary', 'openEpoch']);
  });

  it('primary: PEER_ALIVE at 150 ms postpones the timeout to 350 ms', () => {
    const h = at('primary');
    h.clock.increment(150);
    h.send({ type: 'PEER_ALIVE' });
    h.clock.increment(50); // 200 ms: the first deadline has passed harmlessly.
    expect(h.role()).toBe('primary');
    h.clock.increment(149); // 349 ms
    expect(h.role()).toBe('primary');
    h.clock.increment(1); // 350 ms = 150 + 200
    expect(h.role()).toBe('promoting');
  });

  it('primary: enterPrimary runs once while PEER_ALIVE events keep arriving', () => {
    const h = at('solo');
    h.send({ type: 'STANDBY_ATTACHED' });
    for (let i = 0; i < 40; i++) {
      h.clock.increment(INTERVAL);
      h.send({ type: 'PEER_ALIVE' });
    }
    expect(h.role()).toBe('primary');
    expect(h.count('enterPrimary')).toBe(1);
    expect(h.count('leavePrimary')).toBe(0);
    // A timer restart is not a change of role, so the node logs nothing for it.
    expect(h.changes.filter((c) => c.to === 'primary')).toHaveLength(1);
    expect(h.changes.at(-1)).toEqual({ from: 'solo', to: 'primary', epoch: 5, reason: 'standby n2 attached' });
  });

  it('solo -> primary on STANDBY_ATTACHED; solo has no peer timer', () => {
    const h = at('solo');
    h.clock.increment(TIMEOUT * 10);
    expect(h.role()).toBe('solo');
    h.send({ type: 'STANDBY_ATTACHED' });
    expect(h.role()).toBe('primary');
    expect(h.ctx().reason).toBe('standby n2 attached');
    expect(h.calls).toEqual(['leaveSolo', 'enterPrimary']);
    // Entering primary starts the peer timer afresh.
    h.clock.increment(TIMEOUT - 1);
    expect(h.role()).toBe('primary');
    h.clock.increment(1);
    expect(h.role()).toBe('promoting');
  });
});

describe('role machine: syncing and standby', () => {
  it('syncing -> standby on SYNCED', () => {
    const h = at('syncing');
    h.send({ type: 'SYNCED' });
    expect(h.role()).toBe('standby');
    expect(h.ctx().reason).toBe('caught up with primary n2');
    expect(h.calls).toEqual(['enterStandby']);
  });

  it('syncing -> negotiating when the primary is silent for interval*missed ms; PEER_ALIVE postpones it', () => {
    const h = at('syncing');
    h.clock.increment(150);
    h.send({ type: 'PEER_ALIVE' });
    h.clock.increment(TIMEOUT - 1);
    expect(h.role()).toBe('syncing');
    expect(h.count('startSync')).toBe(0);
    h.clock.increment(1);
    expect(h.role()).toBe('negotiating');
    expect(h.ctx().reason).toBe('4 heartbeats missed (200 ms)');
    expect(h.calls).toEqual(['sendHello']);
  });

  it('standby -> promoting (failover) after interval*missed ms of silence, not before', () => {
    const h = at('standby', { heartbeatIntervalMs: 20, heartbeatMissed: 5 });
    h.clock.increment(99);
    expect(h.role()).toBe('standby');
    h.clock.increment(1);
    expect(h.role()).toBe('promoting');
    expect(h.ctx().reason).toBe('5 heartbeats missed (100 ms)');
    expect(h.calls).toEqual(['leaveStandby', 'openEpoch']);
  });

  it('standby: PEER_ALIVE restarts the timer without re-entering standby', () => {
    const h = at('standby');
    for (let i = 0; i < 10; i++) {
      h.clock.increment(150);
      h.send({ type: 'PEER_ALIVE' });
    }
    expect(h.role()).toBe('standby');
    expect(h.calls).toEqual([]);
    h.clock.increment(TIMEOUT);
    expect(h.role()).toBe('promoting');
  });

  it('standby: a timeout vetoed by a stall of its own is judged again a fifth of an interval later, not a whole timeout later', () => {
    const { clock, actor, setSilent } = standbyWithVeto();
    const role = () => roleOf(actor.getSnapshot());
    clock.increment(TIMEOUT);
    // Vetoed (the node had just stalled): it rechecks, still standby.
    expect(role()).toBe('standby');
    expect(actor.getSnapshot().matches({ standby: 'rechecking' })).toBe(true);
    clock.increment(INTERVAL / 5);
    // Vetoed again: another recheck, a fifth of an interval on.
    expect(role()).toBe('standby');
    setSilent(true);
    clock.increment(INTERVAL / 5 - 1);
    expect(role()).toBe('standby');
    clock.increment(1);
    expect(role()).toBe('promoting');
  });

  it('standby: PEER_ALIVE during a recheck goes back to watching with a fresh timeout', () => {
    const { clock, actor, setSilent } = standbyWithVeto();
    clock.increment(TIMEOUT);
    expect(actor.getSnapshot().matches({ standby: 'rechecking' })).toBe(true);
    actor.send({ type: 'PEER_ALIVE' });
    expect(actor.getSnapshot().matches({ standby: 'watching' })).toBe(true);
    setSilent(true);
    clock.increment(TIMEOUT - 1);
    expect(roleOf(actor.getSnapshot())).toBe('standby');
    clock.increment(1);
    expect(roleOf(actor.getSnapshot())).toBe('promoting');
  });

  it('PEER_GONE ends the watch at once, with its reason: standby and primary promote, syncing negotiates', () => {
    const gone = { type: 'PEER_GONE', reason: 'nobody listens on the peer subject' } as const;
    for (const [from, to] of [
      ['standby', 'promoting'],
      ['primary', 'promoting'],
      ['syncing', 'negotiating'],
    ] as const) {
      const h = at(from);
      h.clock.increment(INTERVAL);
      h.send(gone);
      expect(h.role()).toBe(to);
      expect(h.ctx().reason).toBe(gone.reason);
    }
  });

  it('PEER_GONE is not vetoed by a stall of this node: it promotes from rechecking too', () => {
    const { clock, actor } = standbyWithVeto();
    clock.increment(TIMEOUT);
    expect(actor.getSnapshot().matches({ standby: 'rechecking' })).toBe(true);
    actor.send({ type: 'PEER_GONE', reason: 'gone' });
    expect(roleOf(actor.getSnapshot())).toBe('promoting');
  });

  it('PEER_GONE outside a watch (solo, negotiating) changes nothing', () => {
    for (const state of ['solo', 'negotiating'] as const) {
      const h = at(state);
      h.send({ type: 'PEER_GONE', reason: 'gone' });
      expect(h.role()).toBe(state);
      expect(h.calls).toEqual([]);
    }
  });

  it('standby -> syncing on RESYNC', () => {
    const h = at('standby');
    h.send({ type: 'RESYNC', reason: 'gap at seq 1042' });
    expect(h.role()).toBe('syncing');
    expect(h.ctx().reason).toBe('gap at seq 1042');
    expect(h.calls).toEqual(['leaveStandby', 'startSync']);
  });
});

describe('role machine: fencing and higher epochs', () => {
  it('fenced -> syncing on FENCE_DONE', () => {
    const h = at('fenced');
    h.send({ type: 'FENCE_DONE' });
    expect(h.role()).toBe('syncing');
    expect(h.ctx().reason).toBe('stopped serving; following epoch 0');
    expect(h.calls).toEqual(['startSync']);
  });

  it('HIGHER_EPOCH fences a primary, which leaves primary and keeps the higher epoch', () => {
    const h = at('primary');
    h.send({ type: 'HIGHER_EPOCH', epoch: 9, from: 'n2' });
    expect(h.role()).toBe('fenced');
    expect(h.ctx()).toMatchObject({ epoch: 9, reason: 'higher epoch 9 from n2' });
    expect(h.calls).toEqual(['leavePrimary', 'enterFenced']);
    expect(h.changes.at(-1)).toEqual({ from: 'primary', to: 'fenced', epoch: 9, reason: 'higher epoch 9 from n2' });
  });

  it.each(['solo', 'promoting'] as const)('HIGHER_EPOCH fences %s too', (state) => {
    const h = at(state);
    h.send({ type: 'HIGHER_EPOCH', epoch: 9, from: 'n2' });
    expect(h.role()).toBe('fenced');
    expect(h.ctx().epoch).toBe(9);
  });

  it('HIGHER_EPOCH makes a standby adopt the new primary by syncing from it', () => {
    const h = at('standby');
    h.send({ type: 'HIGHER_EPOCH', epoch: 6, from: 'n2' });
    expect(h.role()).toBe('syncing');
    expect(h.ctx()).toMatchObject({ epoch: 6, reason: 'higher epoch 6 from n2' });
    expect(h.calls).toEqual(['leaveStandby', 'startSync']);
  });

  it('HIGHER_EPOCH while negotiating adopts the new primary as well', () => {
    const h = at('negotiating');
    h.send({ type: 'HIGHER_EPOCH', epoch: 6, from: 'n2' });
    expect(h.role()).toBe('syncing');
    expect(h.calls).toEqual(['startSync']);
  });

  it('HIGHER_EPOCH while syncing restarts the sync against the newer primary and is logged once', () => {
    const h = at('syncing');
    h.send({ type: 'HIGHER_EPOCH', epoch: 6, from: 'n2' });
    expect(h.role()).toBe('syncing');
    expect(h.calls).toEqual(['startSync']);
    expect(h.changes.at(-1)).toEqual({ from: 'syncing', to: 'syncing', epoch: 6, reason: 'higher epoch 6 from n2' });
  });

  it('HIGHER_EPOCH never lowers the epoch (max of both)', () => {
    const h = at('primary'); // epoch 5
    h.send({ type: 'HIGHER_EPOCH', epoch: 3, from: 'n2' });
    expect(h.role()).toBe('fenced');
    expect(h.ctx().epoch).toBe(5);
  });

  it.each(['starting', 'recovering', 'fenced', 'stopping'] as const)('HIGHER_EPOCH is ignored in %s', (state) => {
    const h = at(state);
    const before = h.ctx();
    h.send({ type: 'HIGHER_EPOCH', epoch: 99, from: 'n2' });
    expect(h.role()).toBe(state);
    expect(h.ctx()).toEqual(before);
    expect(h.calls).toEqual([]);
  });
});

describe('role machine: stopping', () => {
  it.each(['starting', 'negotiating', 'promoting', 'primary', 'solo', 'syncing', 'standby', 'fenced'] as const)(
    'STOP from %s -> stopping -> stopped',
    (state) => {
      const h = at(state);
      h.send({ type: 'STOP', reason: 'SIGTERM' });
      expect(h.role()).toBe('stopping');
      expect(h.ctx().reason).toBe('SIGTERM');
      expect(h.calls.at(-1)).toBe('enterStopping');
      h.send({ type: 'STOPPED' });
      expect(h.role()).toBe('stopped');
      expect(h.actor.getSnapshot().status).toBe('done');
      expect(h.ctx().reason).toBe('clean shutdown finished');
    },
  );

  it('STOP runs the exit action of a serving role and cancels its peer timer', () => {
    const h = at('primary');
    h.send({ type: 'STOP', reason: 'SIGTERM' });
    expect(h.calls).toEqual(['leavePrimary', 'enterStopping']);
    h.clock.increment(TIMEOUT * 5);
    expect(h.role()).toBe('stopping');
  });

  it('a second STOP while stopping changes nothing', () => {
    const h = at('stopping');
    h.send({ type: 'STOP', reason: 'second SIGTERM' });
    expect(h.role()).toBe('stopping');
    expect(h.ctx().reason).toBe('SIGTERM');
    expect(h.calls).toEqual([]);
  });
});

describe('role machine: ignored events and reasons', () => {
  it('events a state does not expect are ignored without error', () => {
    const cases: [Exclude<RoleState, 'stopped'>, RoleEvent][] = [
      ['starting', { type: 'RECOVERED' }],
      ['recovering', { type: 'PEER_ALIVE' }],
      ['negotiating', { type: 'EPOCH_OPENED', epoch: 3 }],
      ['promoting', { type: 'PEER_ALIVE' }],
      ['primary', { type: 'SYNCED' }],
      ['solo', { type: 'PEER_ALIVE' }],
      ['syncing', { type: 'STANDBY_ATTACHED' }],
      ['standby', { type: 'DECIDED_PRIMARY', reason: 'x' }],
      ['fenced', { type: 'START' }],
      ['stopping', { type: 'FENCE_DONE' }],
    ];
    for (const [state, event] of cases) {
      const h = at(state);
      const before = h.actor.getSnapshot();
      expect(() => h.send(event)).not.toThrow();
      expect(h.role()).toBe(state);
      expect(h.ctx()).toEqual(before.context);
      expect(h.calls).toEqual([]);
    }
  });

  it('a failover logs every change of role once, each with its epoch and reason', () => {
    const clock = new SimulatedClock();
    const h = harness({}, clock);
    h.send(...PATHS.standby);
    clock.increment(TIMEOUT);
    h.send({ type: 'EPOCH_OPENED', epoch: 5 });
    h.send({ type: 'STANDBY_ATTACHED' });
    h.send({ type: 'HIGHER_EPOCH', epoch: 7, from: 'n2' });
    h.send({ type: 'FENCE_DONE' });
    expect(h.changes.map((c) => `${c.from} -> ${c.to} (epoch ${c.epoch}): ${c.reason}`)).toEqual([
      'starting -> recovering (epoch 0): data opened',
      'recovering -> negotiating (epoch 0): log replayed; negotiating with peer n2',
      'negotiating -> syncing (epoch 0): peer n2 was primary in epoch 4',
      'syncing -> standby (epoch 0): caught up with primary n2',
      'standby -> promoting (epoch 0): 4 heartbeats missed (200 ms)',
      'promoting -> solo (epoch 5): epoch 5 opened without a standby',
      'solo -> primary (epoch 5): standby n2 attached',
      'primary -> fenced (epoch 7): higher epoch 7 from n2',
      'fenced -> syncing (epoch 7): stopped serving; following epoch 7',
    ]);
  });
});
