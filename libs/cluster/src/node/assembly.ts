/**
 * The parts of a node that are only construction: the processor with its record and
 * event hooks, the serving side (client door, subscriptions), the promotion. The facade
 * (tx-node.ts) decides the order and what each part reaches of the others.
 */
import { Processor, type RoleEvent } from '@txtest/actors';
import type { EpochKeeper } from '../epochs/epoch-keeper';
import { Promotion } from '../epochs/promotion';
import type { FaultBehaviours } from '../faults';
import type { LogWiring } from '../log/log-wiring';
import type { Admission } from '../serving/admission';
import { ClientDoor, type ForwardReply } from '../serving/client-door';
import { EventPublisher } from '../serving/event-publisher';
import type { ReplyGate } from '../serving/reply-gate';
import { Serving } from '../serving/serving';
import type { ResolvedOptions } from './options';

/** What serving and promotion are built from. */
export interface NodeParts {
  o: ResolvedOptions;
  processor: Processor;
  admission: Admission;
  epochs: EpochKeeper;
  gate: ReplyGate;
  wiring: LogWiring;
  faults: FaultBehaviours;
  /** The epoch the peer last said it was in (0 when none). */
  peerEpoch(): number;
  failed(): Error | null;
  fail(err: unknown): void;
  send(event: RoleEvent): void;
  /** Hands a client reply to the live standby (`--reply-from standby`); false when none is live. */
  forward: ForwardReply;
}

/** The processor; every turn's record goes to `onRecord` (the log, the standby, the observer), its event to NATS. */
export function buildProcessor(o: ResolvedOptions, onRecord: ConstructorParameters<typeof Processor>[0]['onRecord']): Processor {
  const events = o.events === false ? null : new EventPublisher(o.transport, o.subjects, o.clock);
  return new Processor({
    clock: o.clock,
    defer: o.defer,
    getModel: o.getModel,
    limits: o.limits ?? {},
    ...(o.dedupe ? { dedupe: o.dedupe } : {}),
    onRecord,
    onEvent: events === null ? () => undefined : events.push,
  });
}

export function buildServing(p: NodeParts): Serving {
  const { o, processor, gate, admission } = p;
  const door = new ClientDoor(p.faults.doorProcessor(processor), o.transport, o.bodyBytesMax, p.forward, o.shard);
  return new Serving({
    transport: o.transport,
    subjects: o.subjects,
    queueMembers: o.queueMembers,
    processor,
    door,
    gate,
    admission,
    epoch: () => p.epochs.epoch,
    failed: () => p.failed() !== null,
  });
}

export function buildPromotion(p: NodeParts): Promotion {
  const { o } = p;
  return new Promotion({
    nodeId: o.nodeId,
    arbiter: o.arbiter ?? null,
    processor: p.processor,
    admission: p.admission,
    epochs: p.epochs,
    wiring: p.wiring,
    faults: p.faults,
    clock: o.clock,
    log: o.log,
    whenReleased: (seq, fn) => p.gate.whenReleased(seq, fn),
    peerEpoch: p.peerEpoch,
    failed: p.failed,
    fail: p.fail,
    send: p.send,
  });
}
