/**
 * The role of one node of the pair, as an XState v5 machine.
 *
 * The machine only holds state: it sends no message, writes no file and reads no time.
 * Every side effect is a named action with a no-op default that the node replaces with
 * `roleMachine.provide({ actions })`, and the result of any asynchronous work comes
 * back as an event. Its timers are XState delays, so they run on whatever clock the
 * caller passes to `createActor(roleMachine, { input, clock })`: the node passes its
 * injected clock, the tests and the simulator a simulated one.
 */
import { assertEvent, assign, setup, type SnapshotFrom, type StateValue } from 'xstate';

/** Every top-level state, in the order a node usually meets them. */
export const ROLE_STATES = [
  'starting',
  'recovering',
  'negotiating',
  'promoting',
  'primary',
  'solo',
  'syncing',
  'standby',
  'fenced',
  'stopping',
  'stopped',
] as const;

export type RoleState = (typeof ROLE_STATES)[number];

/** The side effects the node supplies through `roleMachine.provide({ actions })`. */
export const ROLE_ACTIONS = [
  'sendHello',
  'openEpoch',
  'enterPrimary',
  'leavePrimary',
  'enterSolo',
  'leaveSolo',
  'startSync',
  'enterStandby',
  'leaveStandby',
  'enterFenced',
  'enterStopping',
] as const;

export type RoleActionName = (typeof ROLE_ACTIONS)[number];

/** What the node knows when it creates the actor. */
export interface RoleInput {
  nodeId: string;
  /** The other node of the pair; null when the node runs standalone. */
  peerId: string | null;
  /** No peer at all: the node promotes itself straight after recovery and runs solo. */
  standalone: boolean;
  heartbeatIntervalMs: number;
  /** How many heartbeat intervals of silence mean the peer is gone. */
  heartbeatMissed: number;
  /** The last epoch the node knows of; 0 when it has none yet. */
  epoch?: number;
}

export interface RoleContext {
  nodeId: string;
  peerId: string | null;
  standalone: boolean;
  heartbeatIntervalMs: number;
  heartbeatMissed: number;
  /** The highest epoch this node has opened or heard of. */
  epoch: number;
  /** Why the last change of role happened, in words fit for the log. */
  reason: string;
}

export type RoleEvent =
  /** The process has opened its data. */
  | { type: 'START' }
  /** The log replay is done; `epoch` is the last epoch found in the log, if any. */
  | { type: 'RECOVERED'; epoch?: number }
  /** The hello exchange, the arbiter or an operator made this node the primary. */
  | { type: 'DECIDED_PRIMARY'; reason: string }
  /** The hello exchange or the arbiter made the peer the primary. */
  | { type: 'DECIDED_STANDBY'; reason: string }
  /** The new epoch is persisted (and won at the arbiter, if there is one); the node serves it solo until a standby attaches. */
  | { type: 'EPOCH_OPENED'; epoch: number }
  /** The new epoch could not be opened, for instance the arbiter holds a higher one. */
  | { type: 'PROMOTION_FAILED'; reason: string }
  /** A heartbeat (or any message) from the peer arrived. */
  | { type: 'PEER_ALIVE' }
  /** NATS said nobody listens on the silent peer's subject: its connection is gone (the peer probe). */
  | { type: 'PEER_GONE'; reason: string }
  /** A standby has caught up and is acknowledging the solo primary's records. */
  | { type: 'STANDBY_ATTACHED' }
  /** The standby has caught up with the primary. */
  | { type: 'SYNCED' }
  /** The primary handed over cleanly (SIGTERM) and leaves: take over now. */
  | { type: 'PRIMARY_LEFT'; reason: string }
  /** The standby lost the replication stream and must catch up again. */
  | { type: 'RESYNC'; reason: string }
  /** The fenced node has stopped serving and streaming: it may follow the newer primary. */
  | { type: 'FENCE_DONE' }
  /** A message carried an epoch above this node's; `from` is the node that sent it. */
  | { type: 'HIGHER_EPOCH'; epoch: number; from: string }
  /** Shutdown was asked for (SIGTERM, an operator, a fatal error). */
  | { type: 'STOP'; reason: string }
  /** The handover and the final log flush are done. */
  | { type: 'STOPPED' };

/** The silence after which the peer counts as gone. */
export function peerTimeoutMs(context: Pick<RoleContext, 'heartbeatIntervalMs' | 'heartbeatMissed'>): number {
  return context.heartbeatIntervalMs * context.heartbeatMissed;
}

/** One sentence per state: what the state waits for. describeStates() reads them back. */
const WAITS_FOR: Record<RoleState, string> = {
  starting: 'Waits for the process to open its data.',
  recovering: 'Waits for the log replay to finish.',
  negotiating: "Waits for the peer's hello, the arbiter's word or an operator's force to decide who is primary.",
  promoting: 'Waits for the new epoch to be persisted and, with an arbiter, won by compare-and-set.',
  primary: "Serves clients and waits for the standby's heartbeats.",
  solo: 'Serves clients alone and waits for a standby to catch up and attach.',
  syncing: 'Waits for the catch-up from the primary: truncation of an unconfirmed suffix, snapshot and tail.',
  standby: "Receives replication and waits for the primary's heartbeats.",
  fenced:
    'Waits for the node to stop serving and streaming; what the higher epoch did not confirm is dropped later, in syncing, at the point the new primary names.',
  stopping: 'Waits for a clean shutdown: handover and log flush.',
  stopped: 'Waits for nothing: the process may exit.',
};

/** The peer-watching children of primary, syncing and standby (see `watchingPeer` below). */
const WATCHING =
  "Waits for the next PEER_ALIVE; each one re-enters this child so that its peerTimeout timer starts over while the parent stays put. PEER_GONE (the peer probe found nobody listening on the peer's subject) ends the watch at once.";
const RECHECKING =
  'Waits a fifth of a heartbeat interval after a timeout this node vetoed (its own event loop had just stalled, so the peer may have spoken unread), then judges the silence again, until the veto lifts or the peer speaks.';

const roleSetup = setup({
  types: {
    context: {} as RoleContext,
    events: {} as RoleEvent,
    input: {} as RoleInput,
  },
  // No-op defaults: the machine must be usable (and testable) without any I/O, and
  // the node replaces each one with the real effect.
  actions: {
    sendHello: () => {},
    openEpoch: () => {},
    enterPrimary: () => {},
    leavePrimary: () => {},
    enterSolo: () => {},
    leaveSolo: () => {},
    startSync: () => {},
    enterStandby: () => {},
    leaveStandby: () => {},
    enterFenced: () => {},
    enterStopping: () => {},
  },
  // The node replaces this: it answers false when its own event loop has just been
  // blocked, because then the peer's heartbeats may be waiting unread in the socket
  // (timers run before I/O), and a node must not depose its peer for its own stall.
  guards: {
    peerSilent: () => true,
  },
  // Both delays come from the context so that the node's settings, not constants
  // here, decide the timing.
  delays: {
    heartbeat: ({ context }) => context.heartbeatIntervalMs,
    peerTimeout: ({ context }) => peerTimeoutMs(context),
    // Soon after the veto, so the pending I/O has been read: the guard itself waits for
    // one interval of on-time running after the stall, which lets the peer's overdue beat
    // arrive after a stall both nodes shared. A flat two intervals here added 100 ms to
    // every failover whose kill came near a stall of the new primary's (a drill at a
    // million accounts: 336 ms against 200-230 for the others).
    recheck: ({ context }) => Math.max(1, Math.round(context.heartbeatIntervalMs / 5)),
  },
});

// The reason is assigned by the transition itself, so it is already in the context
// when the entry actions of the new state run and when a subscriber sees the snapshot.

/** Takes the reason from events that carry one. */
const reasonFromEvent = roleSetup.assign({
  reason: ({ event }) => {
    assertEvent(event, ['DECIDED_PRIMARY', 'DECIDED_STANDBY', 'PROMOTION_FAILED', 'RESYNC', 'PRIMARY_LEFT', 'PEER_GONE', 'STOP']);
    return event.reason;
  },
});

/** The reason for a peer timeout, e.g. "4 heartbeats missed (200 ms)". */
const heartbeatsMissed = roleSetup.assign({
  reason: ({ context }) => `${context.heartbeatMissed} heartbeats missed (${peerTimeoutMs(context)} ms)`,
});

/** Keeps the highest epoch seen; a late or repeated HIGHER_EPOCH must not lower it. */
const adoptHigherEpoch = roleSetup.assign(({ context, event }) => {
  assertEvent(event, 'HIGHER_EPOCH');
  return { epoch: Math.max(context.epoch, event.epoch), reason: `higher epoch ${event.epoch} from ${event.from}` };
});

/** A node that was, or was about to be, primary must stop serving: a newer primary exists. */
const fenceOnHigherEpoch = { target: 'fenced', actions: adoptHigherEpoch } as const;

/** A node that was not serving simply follows the newer primary. */
const adoptOnHigherEpoch = { target: 'syncing', actions: adoptHigherEpoch } as const;

/**
 * The child that owns the peer timer of `primary`, `syncing` and `standby`.
 *
 * PEER_ALIVE re-enters this child only (a self-transition with `reenter: true` whose
 * domain is the parent), which cancels and restarts its `after` timer; the parent is
 * neither exited nor entered, so enterPrimary and enterStandby run once per real entry.
 */
function watchingPeer(onTimeout: '#role.promoting' | '#role.negotiating') {
  return roleSetup.createStateConfig({
    initial: 'watching',
    states: {
      watching: {
        description: WATCHING,
        // No guard on PEER_GONE: its evidence is the server's, not this node's timing.
        on: { PEER_ALIVE: { target: 'watching', reenter: true }, PEER_GONE: { target: onTimeout, actions: reasonFromEvent } },
        after: {
          peerTimeout: [
            { guard: 'peerSilent', target: onTimeout, actions: heartbeatsMissed },
            // Vetoed: judged again once the pending I/O has been read, not a whole timeout
            // later (that doubled the failover time whenever a stall came near the kill).
            { target: 'rechecking' },
          ],
        },
      },
      rechecking: {
        description: RECHECKING,
        on: { PEER_ALIVE: { target: 'watching' }, PEER_GONE: { target: onTimeout, actions: reasonFromEvent } },
        after: {
          recheck: [
            { guard: 'peerSilent', target: onTimeout, actions: heartbeatsMissed },
            { target: 'rechecking', reenter: true },
          ],
        },
      },
    },
  });
}

// Inside the config, transition actions use the plain `assign`: written inline under an
// `on` key it is typed with that event alone, so `event.epoch` needs no assertion.
export const roleMachine = roleSetup.createMachine({
  id: 'role',
  initial: 'starting',
  context: ({ input }) => ({
    nodeId: input.nodeId,
    peerId: input.peerId,
    standalone: input.standalone,
    heartbeatIntervalMs: input.heartbeatIntervalMs,
    heartbeatMissed: input.heartbeatMissed,
    epoch: input.epoch ?? 0,
    reason: 'created',
  }),
  // STOP is accepted from every state; `stopping` overrides it below so that a second
  // STOP does not restart the shutdown, and `stopped` is final, so nothing reaches it.
  on: {
    STOP: { target: '.stopping', actions: reasonFromEvent },
  },
  states: {
    starting: {
      description: WAITS_FOR.starting,
      on: {
        START: { target: 'recovering', actions: assign({ reason: 'data opened' }) },
      },
    },
    recovering: {
      description: WAITS_FOR.recovering,
      on: {
        RECOVERED: [
          {
            // Without a peer there is nobody to negotiate with: promote at once.
            guard: ({ context }) => context.standalone,
            target: 'promoting',
            actions: assign(({ context, event }) => ({
              epoch: Math.max(context.epoch, event.epoch ?? 0),
              reason: 'log replayed; standalone, so no peer to negotiate with',
            })),
          },
          {
            target: 'negotiating',
            actions: assign(({ context, event }) => ({
              epoch: Math.max(context.epoch, event.epoch ?? 0),
              reason: `log replayed; negotiating with peer ${context.peerId ?? '(unknown)'}`,
            })),
          },
        ],
      },
    },
    negotiating: {
      description: WAITS_FOR.negotiating,
      entry: 'sendHello',
      // Re-entering the state restarts this timer and re-runs sendHello, so the hello
      // repeats every interval until a decision arrives. It is not a change of role, so
      // the reason stays that of the transition into negotiating.
      after: { heartbeat: { target: 'negotiating', reenter: true } },
      on: {
        DECIDED_PRIMARY: { target: 'promoting', actions: reasonFromEvent },
        DECIDED_STANDBY: { target: 'syncing', actions: reasonFromEvent },
        HIGHER_EPOCH: adoptOnHigherEpoch,
      },
    },
    promoting: {
      description: WAITS_FOR.promoting,
      entry: 'openEpoch',
      on: {
        // Every new epoch begins solo: no standby holds it yet. One attaches (STANDBY_ATTACHED)
        // once it has caught up in it, and only then do replies wait for its acks.
        EPOCH_OPENED: {
          target: 'solo',
          actions: assign(({ event }) => ({ epoch: event.epoch, reason: `epoch ${event.epoch} opened without a standby` })),
        },
        PROMOTION_FAILED: { target: 'fenced', actions: reasonFromEvent },
        HIGHER_EPOCH: fenceOnHigherEpoch,
      },
    },
    primary: {
      description: WAITS_FOR.primary,
      entry: 'enterPrimary',
      exit: 'leavePrimary',
      // A silent standby means it is gone: going solo opens a new epoch, hence promoting.
      ...watchingPeer('#role.promoting'),
      on: {
        HIGHER_EPOCH: fenceOnHigherEpoch,
      },
    },
    solo: {
      description: WAITS_FOR.solo,
      entry: 'enterSolo',
      exit: 'leaveSolo',
      on: {
        STANDBY_ATTACHED: {
          target: 'primary',
          actions: assign(({ context }) => ({ reason: `standby ${context.peerId ?? '(unknown)'} attached` })),
        },
        HIGHER_EPOCH: fenceOnHigherEpoch,
      },
    },
    syncing: {
      description: WAITS_FOR.syncing,
      entry: 'startSync',
      // A primary that stops talking during the catch-up is not followed any further:
      // negotiate again rather than promote, since this node's data is incomplete.
      ...watchingPeer('#role.negotiating'),
      on: {
        SYNCED: {
          target: 'standby',
          actions: assign(({ context }) => ({ reason: `caught up with primary ${context.peerId ?? '(unknown)'}` })),
        },
        // Re-entering syncing re-runs startSync against the newer primary.
        HIGHER_EPOCH: { ...adoptOnHigherEpoch, reenter: true },
      },
    },
    standby: {
      description: WAITS_FOR.standby,
      entry: 'enterStandby',
      exit: 'leaveStandby',
      // A silent primary means failover: this node promotes itself.
      ...watchingPeer('#role.promoting'),
      on: {
        RESYNC: { target: 'syncing', actions: reasonFromEvent },
        // A planned switch-over: the primary has handed over everything and is leaving.
        PRIMARY_LEFT: { target: 'promoting', actions: reasonFromEvent },
        HIGHER_EPOCH: adoptOnHigherEpoch,
      },
    },
    fenced: {
      description: WAITS_FOR.fenced,
      entry: 'enterFenced',
      on: {
        FENCE_DONE: {
          target: 'syncing',
          actions: assign(({ context }) => ({ reason: `stopped serving; following epoch ${context.epoch}` })),
        },
      },
    },
    stopping: {
      description: WAITS_FOR.stopping,
      entry: 'enterStopping',
      on: {
        STOP: { description: 'Already stopping: a second STOP changes nothing.' },
        STOPPED: { target: 'stopped', actions: assign({ reason: 'clean shutdown finished' }) },
      },
    },
    stopped: {
      description: WAITS_FOR.stopped,
      type: 'final',
    },
  },
});

export type RoleMachine = typeof roleMachine;
export type RoleSnapshot = SnapshotFrom<typeof roleMachine>;

/** Each top-level state with the sentence (its `description`) saying what it waits for. */
export function describeStates(): { state: RoleState; waitsFor: string }[] {
  return ROLE_STATES.map((state) => ({ state, waitsFor: roleMachine.root.states[state]!.description ?? '' }));
}

/**
 * The role in a snapshot: the top-level state name. Primary, syncing and standby have
 * a `watching` child, so their snapshot value is `{ primary: 'watching' }`, not a string.
 */
export function roleOf(snapshot: { readonly value: StateValue }): RoleState {
  const v = snapshot.value;
  return (typeof v === 'string' ? v : Object.keys(v)[0]!) as RoleState;
}

export interface RoleChange {
  from: RoleState;
  to: RoleState;
  epoch: number;
  reason: string;
}

/**
 * What the node logs when a snapshot follows another: `from -> to` with epoch and
 * reason, or null when the role did not change. A timer restart (PEER_ALIVE, a hello
 * resent) leaves the reason alone, so it yields null; a HIGHER_EPOCH that keeps the
 * node in syncing does set a new reason, so it is reported as syncing -> syncing.
 */
export function roleChange(
  prev: { readonly value: StateValue; readonly context: RoleContext },
  next: { readonly value: StateValue; readonly context: RoleContext },
): RoleChange | null {
  const from = roleOf(prev);
  const to = roleOf(next);
  if (from === to && prev.context.reason === next.context.reason) return null;
  return { from, to, epoch: next.context.epoch, reason: next.context.reason };
}
