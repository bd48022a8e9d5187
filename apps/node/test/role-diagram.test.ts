/**
 * The diagram is drawn from the machine itself: every state and every transition of
 * `roleMachine` appears, positioned without overlaps, and the export command writes the
 * same SVG the page shows.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROLE_STATES, roleMachine } from '@txtest/actors';
import { REPO_ROOT } from '@txtest/testkit';
import { layoutRoleDiagram } from '../src/diagram/layout';
import { renderDiagramSvg } from '../src/diagram/render-svg';
import { ANY, INITIAL, allStateIds, roleGraph } from '../src/diagram/role-graph';

describe('role diagram: from the XState definition to SVG', () => {
  const graph = roleGraph();

  it('has every top-level state, and the nested watching states inside their parents', () => {
    expect(graph.states.map((s) => s.id)).toEqual([...ROLE_STATES]);
    const ids = allStateIds(graph);
    for (const parent of ['primary', 'syncing', 'standby']) {
      expect(ids).toContain(`${parent}.watching`);
      expect(ids).toContain(`${parent}.rechecking`);
    }
    expect(graph.states.find((s) => s.id === 'stopped')!.final).toBe(true);
    expect(graph.states.find((s) => s.id === 'negotiating')!.description).toBe(roleMachine.root.states.negotiating!.description);
  });

  it('labels each transition with its event, guard and timer', () => {
    const labels = (source: string, target: string) => graph.edges.filter((e) => e.source === source && e.target === target).map((e) => e.label);
    expect(labels(INITIAL, 'starting')).toEqual(['']);
    expect(labels(ANY, 'stopping')).toEqual(['STOP']);
    expect(labels('standby.watching', 'promoting')).toEqual(['PEER_GONE', 'after peerTimeout [peerSilent]']);
    expect(labels('standby.watching', 'standby.rechecking')).toEqual(['after peerTimeout [else]']);
    expect(labels('standby.rechecking', 'promoting')).toEqual(['PEER_GONE', 'after recheck [peerSilent]']);
    expect(labels('recovering', 'promoting')).toEqual(['RECOVERED [guarded]']);
    expect(labels('recovering', 'negotiating')).toEqual(['RECOVERED [else]']);
    // Every new epoch begins solo; a standby attaches later (the node never opens one "with a standby").
    expect(labels('promoting', 'solo')).toEqual(['EPOCH_OPENED']);
    expect(labels('promoting', 'primary')).toEqual([]);
    expect(labels('solo', 'primary')).toEqual(['STANDBY_ATTACHED']);
    expect(labels('standby', 'promoting')).toEqual(['PRIMARY_LEFT']);
    expect(graph.edges.find((e) => e.source === 'stopping' && e.target === 'stopping')!.targetless).toBe(true);
  });

  it('lays out every state inside the picture, nested ones inside their parent, siblings apart', async () => {
    const d = await layoutRoleDiagram(graph);
    const byId = new Map(d.states.map((s) => [s.id, s]));
    for (const s of d.states) {
      expect(s.x).toBeGreaterThanOrEqual(0);
      expect(s.y).toBeGreaterThanOrEqual(0);
      expect(s.x + s.width).toBeLessThanOrEqual(d.width);
      expect(s.y + s.height).toBeLessThanOrEqual(d.height);
    }
    const inside = (a: { x: number; y: number; width: number; height: number }, b: typeof a) =>
      a.x >= b.x && a.y >= b.y && a.x + a.width <= b.x + b.width && a.y + a.height <= b.y + b.height;
    expect(inside(byId.get('primary.watching')!, byId.get('primary')!)).toBe(true);
    const top = d.states.filter((s) => s.depth === 0);
    for (const a of top) {
      for (const b of top) {
        if (a === b) continue;
        const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
        expect(apart, `${a.id} overlaps ${b.id}`).toBe(true);
      }
    }
    for (const e of d.edges) expect(e.points.length, e.id).toBeGreaterThanOrEqual(2);

    const svg = renderDiagramSvg(d);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    for (const id of allStateIds(graph)) expect(svg).toContain(`data-state="${id}"`);
    expect(svg).toContain('after peerTimeout [peerSilent]');
    // The README's picture is the machine that runs: after changing the machine, run `npm run diagram`.
    const committed = readFileSync(join(REPO_ROOT, 'apps/node/src/visualizer/role-machine.svg'), 'utf8');
    expect(committed === `${svg}\n`, 'apps/node/src/visualizer/role-machine.svg is stale: run `npm run diagram` and commit it').toBe(true);
  });

  it('the export command writes the diagram to a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'txtest-diagram-'));
    try {
      const out = join(dir, 'role-machine.svg');
      execFileSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'apps/node/src/diagram/export-diagram.ts'), out], { cwd: REPO_ROOT, stdio: 'pipe' });
      const svg = readFileSync(out, 'utf8');
      for (const s of ROLE_STATES) expect(svg).toContain(`data-state="${s}"`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
