/**
 * Draws a laid-out role diagram as one self-contained SVG (its style inside), for the
 * visualizer page and for the static export alike. Every state is a
 * `<g class="state" data-state="<id>">` with its rect first, so the page can find a
 * state by id and mark where each node is.
 */
import { FONT_PX, type PlacedEdge, type PlacedState, type RoleDiagram } from './layout';
import { layoutRoleDiagram } from './layout';

const STYLE = `
.role-diagram { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: ${FONT_PX}px; }
.role-diagram .state > rect { fill: #f8fafc; stroke: #475569; stroke-width: 1.2; }
.role-diagram .state.compound > rect { fill: #eef2f7; stroke: #94a3b8; }
.role-diagram .state.final > rect.inner { fill: none; stroke: #475569; }
.role-diagram .state > text { fill: #0f172a; font-weight: 600; }
.role-diagram .state.nested > text { font-weight: 400; fill: #334155; }
.role-diagram .pseudo.initial > circle { fill: #0f172a; }
.role-diagram .pseudo.any > rect { fill: none; stroke: #64748b; stroke-dasharray: 4 3; }
.role-diagram .pseudo.any > text { fill: #475569; font-style: italic; }
.role-diagram .edge > path { fill: none; stroke: #64748b; stroke-width: 1.1; }
.role-diagram .edge > text { fill: #334155; font-size: ${FONT_PX - 1}px; }
.role-diagram .edge > rect { fill: #ffffff; opacity: 0.85; }
.role-diagram .arrow { fill: #64748b; }
`;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const n = (v: number) => String(Math.round(v * 10) / 10);

function stateSvg(s: PlacedState): string {
  if (s.pseudo && s.key === '') {
    const r = s.width / 2;
    return `<g class="pseudo initial" data-pseudo="initial"><title>${esc(s.description)}</title><circle cx="${n(s.x + r)}" cy="${n(s.y + r)}" r="${n(r)}"/></g>`;
  }
  if (s.pseudo) {
    return `<g class="pseudo any" data-pseudo="any"><title>${esc(s.description)}</title><rect x="${n(s.x)}" y="${n(s.y)}" width="${n(s.width)}" height="${n(s.height)}" rx="6"/><text x="${n(s.x + s.width / 2)}" y="${n(s.y + s.height / 2 + 4)}" text-anchor="middle">${esc(s.key)}</text></g>`;
  }
  const cls = ['state', s.compound ? 'compound' : 'atomic', s.depth > 0 ? 'nested' : 'top', s.final ? 'final' : ''].filter((c) => c !== '').join(' ');
  const label = s.compound
    ? `<text x="${n(s.x + 12)}" y="${n(s.y + 19)}">${esc(s.key)}</text>`
    : `<text x="${n(s.x + s.width / 2)}" y="${n(s.y + s.height / 2 + 4)}" text-anchor="middle">${esc(s.key)}</text>`;
  const inner = s.final ? `<rect class="inner" x="${n(s.x + 3)}" y="${n(s.y + 3)}" width="${n(s.width - 6)}" height="${n(s.height - 6)}" rx="6"/>` : '';
  return `<g class="${cls}" data-state="${esc(s.id)}"><title>${esc(`${s.id}: ${s.description}`)}</title><rect x="${n(s.x)}" y="${n(s.y)}" width="${n(s.width)}" height="${n(s.height)}" rx="${s.depth > 0 ? 6 : 9}"/>${inner}${label}</g>`;
}

function edgeSvg(e: PlacedEdge): string {
  if (e.points.length < 2) return '';
  const d = e.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${n(p.x)} ${n(p.y)}`).join(' ');
  let label = '';
  if (e.label !== null && e.lines.length > 0) {
    const l = e.label;
    const tspans = e.lines.map((line, i) => `<tspan x="${n(l.x + 3)}" y="${n(l.y + 11 + i * 15)}">${esc(line)}</tspan>`).join('');
    label = `<rect x="${n(l.x)}" y="${n(l.y)}" width="${n(l.width)}" height="${n(l.height)}" rx="3"/><text>${tspans}</text>`;
  }
  return `<g class="edge" data-source="${esc(e.source)}" data-target="${esc(e.target)}"><path d="${d}" marker-end="url(#role-arrow)"/>${label}</g>`;
}

export function renderDiagramSvg(d: RoleDiagram): string {
  // Parents before children, so a nested state is drawn on top of its parent's box.
  const states = [...d.states].sort((a, b) => a.depth - b.depth);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="role-diagram" data-machine="${esc(d.machineId)}" viewBox="0 0 ${n(d.width)} ${n(d.height)}" width="${n(d.width)}" height="${n(d.height)}">`,
    `<title>The ${esc(d.machineId)} machine of a TxTest node (drawn from its XState definition)</title>`,
    `<style>${STYLE}</style>`,
    '<defs><marker id="role-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path class="arrow" d="M0 0 L10 5 L0 10 z"/></marker></defs>',
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<g class="states">${states.map(stateSvg).join('')}</g>`,
    `<g class="edges">${d.edges.map(edgeSvg).join('')}</g>`,
    '</svg>',
  ].join('\n');
}

let cached: Promise<string> | null = null;

/** The role machine's diagram, laid out once per process (ELK takes some tens of ms). */
export function roleDiagramSvg(): Promise<string> {
  cached ??= layoutRoleDiagram().then(renderDiagramSvg);
  return cached;
}
