/**
 * The role machine's actor (libs/actors role-machine.ts), the only thing that changes the
 * node's role: created with the node's actions and guard, fed its events, and every
 * change of role logged once (with the epoch the node is in) and passed on.
 */
import { roleChange, roleMachine, roleOf, type RoleActionName, type RoleChange, type RoleEvent, type RoleState } from '@txtest/actors';
import { createActor, type Actor } from 'xstate';
import type { ResolvedOptions } from './options';

export interface RoleDriverDeps {
  o: ResolvedOptions;
  actions: Record<RoleActionName, () => void>;
  /** The machine's `peerSilent` guard. */
  peerSilent(): boolean;
  /** The epoch record's epoch (a follower lives in its primary's epoch, which only the record knows). */
  recordEpoch(): number;
  /** Every change of role, after it is logged. */
  onChange(change: RoleChange): void;
}

export class RoleDriver {
  private readonly actor: Actor<typeof roleMachine>;

  constructor(d: RoleDriverDeps) {
    const { o } = d;
    this.actor = createActor(roleMachine.provide({ guards: { peerSilent: () => d.peerSilent() }, actions: d.actions }), {
      clock: o.clock as never,
      input: {
        nodeId: o.nodeId,
        peerId: o.peerId,
        standalone: o.peerId === null,
        heartbeatIntervalMs: o.heartbeatIntervalMs,
        heartbeatMissed: o.heartbeatMissed,
      },
    });
    let prev = this.actor.getSnapshot();
    this.actor.subscribe((next) => {
      const found = roleChange(prev, next);
      prev = next;
      if (found === null) return;
      // The machine's epoch is the one this node opened; a follower lives in its
      // primary's epoch, which only the epoch record knows.
      const change = { ...found, epoch: Math.max(found.epoch, d.recordEpoch()) };
      o.log.info({ from: change.from, to: change.to, epoch: change.epoch, reason: change.reason }, `${change.from} -> ${change.to}`);
      d.onChange(change);
    });
  }

  get role(): RoleState {
    return roleOf(this.actor.getSnapshot());
  }

  /** The epoch the machine holds: the highest this node opened or heard of. */
  get machineEpoch(): number {
    return this.actor.getSnapshot().context.epoch;
  }

  readonly send = (event: RoleEvent): void => {
    this.actor.send(event);
  };

  start(): void {
    this.actor.start();
  }
}
