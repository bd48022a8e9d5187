/**
 * Lays the role graph out with ELK (layered, nested states inside their parent) and
 * returns absolute coordinates: the one positioned graph that both the SVG renderer
 * and the page's highlight overlay work from.
 */
import ELK, { type ElkExtendedEdge, type ElkNode } from 'elkjs/lib/elk.bundled.js';
import { ANY, INITIAL, roleGraph, type DiagramState, type RoleGraph } from './role-graph';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedState extends Box {
  id: string;
  key: string;
  description: string;
  final: boolean;
  /** Has nested states drawn inside it. */
  compound: boolean;
  /** A pseudo node (the initial dot, "any state"), not a state of the machine. */
  pseudo: boolean;
  /** Nesting depth: 0 for top-level states. */
  depth: number;
}

export interface PlacedEdge {
  id: string;
  source: string;
  target: string;
  /** One line per transition this arrow stands for (same source and target). */
  lines: string[];
  points: { x: number; y: number }[];
  label: Box | null;
}

export interface RoleDiagram {
  machineId: string;
  width: number;
  height: number;
  states: PlacedState[];
  edges: PlacedEdge[];
}

/** Text metrics without a browser: a fixed advance per character at the label font. */
export const FONT_PX = 12;
const CHAR_PX = 7;
const LINE_PX = 15;
const STATE_HEIGHT_PX = 34;
const COMPOUND_TOP_PX = 30;

function textWidth(text: string): number {
  return Math.ceil(text.length * CHAR_PX);
}

type StateMeta = Map<string, { s: DiagramState | null; depth: number }>;
type MergedEdge = { id: string; source: string; target: string; lines: string[] };

/** The ELK nodes of the states (compound ones sized to their title), plus the pseudo nodes the edges use. */
function elkNodes(graph: RoleGraph, meta: StateMeta): ElkNode[] {
  const toElk = (s: DiagramState, depth: number): ElkNode => {
    meta.set(s.id, { s, depth });
    const minWidth = textWidth(s.key) + 32;
    if (s.children.length === 0) return { id: s.id, width: Math.max(minWidth, 96), height: STATE_HEIGHT_PX };
    return {
      id: s.id,
      layoutOptions: {
        'elk.padding': `[top=${COMPOUND_TOP_PX},left=14,bottom=14,right=14]`,
        'elk.nodeSize.constraints': 'MINIMUM_SIZE',
        'elk.nodeSize.minimum': `(${minWidth}, ${STATE_HEIGHT_PX})`,
      },
      children: s.children.map((c) => toElk(c, depth + 1)),
    };
  };
  const children = graph.states.map((s) => toElk(s, 0));
  const used = new Set(graph.edges.flatMap((e) => [e.source, e.target]));
  if (used.has(INITIAL)) children.unshift({ id: INITIAL, width: 14, height: 14 });
  if (used.has(ANY)) children.push({ id: ANY, width: textWidth('any state') + 24, height: STATE_HEIGHT_PX - 6 });
  return children;
}

/** Transitions between the same two states share one arrow with one line per event. */
function mergeEdges(graph: RoleGraph): Map<string, MergedEdge> {
  const merged = new Map<string, MergedEdge>();
  for (const e of graph.edges) {
    const key = `${e.source}->${e.target}`;
    const m = merged.get(key) ?? { id: key, source: e.source, target: e.target, lines: [] };
    const line = e.targetless ? `${e.label} (stays)` : e.label;
    if (line !== '') m.lines.push(line);
    merged.set(key, m);
  }
  return merged;
}

/** The arrows as ELK edges, each label box sized to its longest line. */
function elkEdges(merged: Map<string, MergedEdge>): ElkExtendedEdge[] {
  return [...merged.values()].map((m) => ({
    id: m.id,
    sources: [m.source],
    targets: [m.target],
    labels:
      m.lines.length === 0
        ? []
        : [{ id: `${m.id}:label`, text: m.lines.join('\n'), width: Math.max(...m.lines.map(textWidth)) + 6, height: m.lines.length * LINE_PX }],
  }));
}

/** Top to bottom in layers, nested states laid out with the rest, right-angled arrows. */
const ROOT_LAYOUT = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.layered.spacing.nodeNodeBetweenLayers': '46',
  'elk.spacing.nodeNode': '34',
  'elk.spacing.edgeNode': '16',
  'elk.spacing.edgeEdge': '12',
  'elk.spacing.edgeLabel': '4',
  'elk.edgeLabels.placement': 'CENTER',
  'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
  'elk.padding': '[top=16,left=16,bottom=16,right=16]',
};

// ELK gives child coordinates relative to their parent and edge coordinates relative
// to the edge's container: placeStates and placeEdges turn both into absolute ones.

/** The states at absolute coordinates, and each node's offset for the edges it contains. */
function placeStates(out: ElkNode, meta: StateMeta): { states: PlacedState[]; offsets: Map<string, { x: number; y: number }> } {
  const offsets = new Map<string, { x: number; y: number }>([['root', { x: 0, y: 0 }]]);
  const states: PlacedState[] = [];
  const place = (n: ElkNode, ox: number, oy: number) => {
    const x = ox + (n.x ?? 0);
    const y = oy + (n.y ?? 0);
    offsets.set(n.id, { x, y });
    const m = meta.get(n.id);
    const s = m?.s ?? null;
    states.push({
      id: n.id,
      key: s?.key ?? (n.id === ANY ? 'any state' : ''),
      description: s?.description ?? (n.id === ANY ? 'Transitions the machine accepts in every state.' : 'The initial state.'),
      final: s?.final ?? false,
      compound: (n.children?.length ?? 0) > 0,
      pseudo: s === null,
      depth: m?.depth ?? 0,
      x,
      y,
      width: n.width ?? 0,
      height: n.height ?? 0,
    });
    for (const c of n.children ?? []) place(c, x, y);
  };
  for (const c of out.children ?? []) place(c, 0, 0);
  return { states, offsets };
}

/** The arrows at absolute coordinates, with the transition lines each stands for. */
function placeEdges(out: ElkNode, offsets: Map<string, { x: number; y: number }>, merged: Map<string, MergedEdge>): PlacedEdge[] {
  const placedEdges: PlacedEdge[] = [];
  const collect = (n: ElkNode) => {
    for (const e of n.edges ?? []) {
      const o = offsets.get((e as { container?: string }).container ?? n.id) ?? { x: 0, y: 0 };
      const sec = e.sections?.[0];
      const pts = sec === undefined ? [] : [sec.startPoint, ...(sec.bendPoints ?? []), sec.endPoint];
      const l = e.labels?.[0];
      const m = merged.get(e.id)!;
      placedEdges.push({
        id: e.id,
        source: m.source,
        target: m.target,
        lines: m.lines,
        points: pts.map((p) => ({ x: p.x + o.x, y: p.y + o.y })),
        label: l === undefined ? null : { x: (l.x ?? 0) + o.x, y: (l.y ?? 0) + o.y, width: l.width ?? 0, height: l.height ?? 0 },
      });
    }
    for (const c of n.children ?? []) collect(c);
  };
  collect(out);
  return placedEdges;
}

export async function layoutRoleDiagram(graph: RoleGraph = roleGraph()): Promise<RoleDiagram> {
  const meta: StateMeta = new Map();
  const children = elkNodes(graph, meta);
  const merged = mergeEdges(graph);
  const root: ElkNode = { id: 'root', layoutOptions: ROOT_LAYOUT, children, edges: elkEdges(merged) };
  const out = await new ELK().layout(root);
  const { states, offsets } = placeStates(out, meta);
  return { machineId: graph.machineId, width: out.width ?? 0, height: out.height ?? 0, states, edges: placeEdges(out, offsets, merged) };
}
