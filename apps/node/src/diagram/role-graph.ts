/**
 * The role machine as a graph, read from the XState definition itself
 * (`@xstate/graph`): every state (nested ones inside their parent) and every
 * transition, labelled with its event. Nothing here is drawn by hand, so the diagram
 * changes when the machine does.
 */
import { toDirectedGraph, type DirectedGraphNode } from '@xstate/graph';
import { roleMachine } from '@txtest/actors';

export interface DiagramState {
  /** Path below the machine's root, e.g. `primary` or `primary.watching`. */
  id: string;
  /** The state's own key, e.g. `watching`. */
  key: string;
  /** Its `description`: what the state waits for. */
  description: string;
  final: boolean;
  children: DiagramState[];
}

export interface DiagramEdge {
  id: string;
  /** A state id, or a pseudo node: `(initial)` or `(any)`. */
  source: string;
  target: string;
  /** The event, with its guard when it has one: `EPOCH_OPENED [guarded]`, `after peerTimeout [peerSilent]`. */
  label: string;
  /** A transition without a target: it runs its actions (or nothing) and stays. */
  targetless: boolean;
}

export interface RoleGraph {
  machineId: string;
  states: DiagramState[];
  edges: DiagramEdge[];
}

/** The pseudo node the initial arrow starts from. */
export const INITIAL = '(initial)';
/** The pseudo node for transitions the root accepts in every state (STOP). */
export const ANY = '(any)';

type Machine = Parameters<typeof toDirectedGraph>[0];

export function roleGraph(machine: Machine = roleMachine): RoleGraph {
  const root = toDirectedGraph(machine);
  const prefix = `${root.id}.`;
  const local = (id: string) => (id === root.id ? ANY : id.startsWith(prefix) ? id.slice(prefix.length) : id);
  const edges: DiagramEdge[] = [];
  const seen = new Map<string, number>();

  const state = (n: DirectedGraphNode): DiagramState => {
    for (const e of n.edges) {
      const source = local(e.source.id);
      const target = local(e.target.id);
      const t = e.transition as { target?: unknown; guard?: unknown };
      const label = `${eventLabel(e.label.text)}${guardLabel(t.guard, n, e.label.text)}`;
      const base = `${source}->${target}:${label}`;
      const k = seen.get(base) ?? 0;
      seen.set(base, k + 1);
      edges.push({ id: k === 0 ? base : `${base}#${k}`, source, target, label, targetless: t.target === undefined });
    }
    return {
      id: n === root ? '' : local(n.id),
      key: n.stateNode.key,
      description: n.stateNode.description ?? '',
      final: n.stateNode.type === 'final',
      children: n.children.map(state),
    };
  };
  // The root's own edges (STOP, accepted in every state) start at the ANY pseudo node.
  const states = state(root).children;
  const initial = (machine as { root: { initial?: { target: readonly { path: readonly string[] }[] } } }).root.initial;
  const first = initial?.target[0]?.path.join('.');
  if (first !== undefined) edges.unshift({ id: `${INITIAL}->${first}`, source: INITIAL, target: first, label: '', targetless: false });
  return { machineId: root.id, states, edges };
}

/** `xstate.after.peerTimeout.role.primary.watching` reads as `after peerTimeout`. */
function eventLabel(event: string): string {
  const m = /^xstate\.after\.([^.]+)\./.exec(event);
  return m !== null ? `after ${m[1]}` : event;
}

/**
 * A named guard shows its name; an inline one shows `[guarded]`; the unguarded
 * fallback after guarded siblings for the same event shows `[else]`.
 */
function guardLabel(guard: unknown, n: DirectedGraphNode, event: string): string {
  if (typeof guard === 'string') return ` [${guard}]`;
  if (typeof guard === 'object' && guard !== null && typeof (guard as { type?: unknown }).type === 'string') return ` [${(guard as { type: string }).type}]`;
  if (typeof guard === 'function') return ' [guarded]';
  const siblings = n.edges.filter((e) => e.label.text === event);
  return siblings.length > 1 && siblings.some((e) => (e.transition as { guard?: unknown }).guard !== undefined) ? ' [else]' : '';
}

/** Every state id, nested ones included (`primary`, `primary.watching`, ...). */
export function allStateIds(g: RoleGraph): string[] {
  const out: string[] = [];
  const walk = (s: DiagramState) => {
    out.push(s.id);
    s.children.forEach(walk);
  };
  g.states.forEach(walk);
  return out;
}
