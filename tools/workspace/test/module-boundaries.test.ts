/**
 * The module boundaries of docs/CONTRIBUTING.md ("Layout"), enforced: a project may
 * import only the projects its tags allow (module-boundaries.json), only through their
 * package entry (no deep imports), must declare them in its package.json (so Nx's graph
 * sees the edge), and the sans-IO core may not import I/O modules or read the time.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Project {
  name: string;
  pkg: string;
  dir: string;
  tags: string[];
  deps: Set<string>;
}

function projects(): Project[] {
  const out: Project[] = [];
  for (const group of ['apps', 'libs', 'tools']) {
    for (const name of readdirSync(join(ROOT, group))) {
      const dir = join(ROOT, group, name);
      let pj: { tags?: string[] };
      let pkg: { name: string; dependencies?: Record<string, string> };
      try {
        pj = JSON.parse(readFileSync(join(dir, 'project.json'), 'utf8'));
        pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      } catch {
        continue;
      }
      out.push({ name, pkg: pkg.name, dir, tags: pj.tags ?? [], deps: new Set(Object.keys(pkg.dependencies ?? {})) });
    }
  }
  return out;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const sub of ['src']) {
    const walk = (d: string) => {
      let entries: string[];
      try {
        entries = readdirSync(d);
      } catch {
        return;
      }
      for (const e of entries) {
        const p = join(d, e);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(ts|tsx|mts)$/.test(e) && !/\.test\.ts$/.test(e)) out.push(p);
      }
    };
    walk(join(dir, sub));
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) out.push(m[1] ?? m[2]!);
  return out;
}

const rules = JSON.parse(readFileSync(join(ROOT, 'tools/workspace/module-boundaries.json'), 'utf8')) as {
  depConstraints: { sourceTag: string; onlyDependOnLibsWithTags: string[] }[];
  bannedInLayer: Record<string, { imports: string[]; patterns: string[] }>;
};

function violations(): string[] {
  const all = projects();
  const byPkg = new Map(all.map((p) => [p.pkg, p]));
  const problems: string[] = [];
  for (const p of all) {
    const constraints = rules.depConstraints.filter((c) => p.tags.includes(c.sourceTag));
    const banned = Object.entries(rules.bannedInLayer)
      .filter(([tag]) => p.tags.includes(tag))
      .map(([, b]) => b);
    for (const file of sources(p.dir)) {
      const rel = relative(ROOT, file);
      const text = readFileSync(file, 'utf8');
      for (const spec of importsOf(text)) {
        if (spec.startsWith('@txtest/')) {
          const pkgName = spec.split('/').slice(0, 2).join('/');
          if (spec !== pkgName) problems.push(`${rel}: deep import "${spec}" (import "${pkgName}" instead)`);
          const target = byPkg.get(pkgName);
          if (target === undefined) {
            problems.push(`${rel}: imports unknown project "${pkgName}"`);
            continue;
          }
          if (target === p) continue;
          for (const c of constraints) {
            if (!target.tags.some((t) => c.onlyDependOnLibsWithTags.includes(t))) {
              problems.push(`${rel}: a project tagged "${c.sourceTag}" may not import "${pkgName}" (tags ${target.tags.join(', ')})`);
            }
          }
          if (!p.deps.has(pkgName)) problems.push(`${rel}: imports "${pkgName}" but ${p.pkg}'s package.json does not list it`);
        }
        for (const b of banned) {
          const hit = b.imports.some((i) => (i.endsWith('*') ? spec.startsWith(i.slice(0, -1)) : spec === i));
          if (hit) problems.push(`${rel}: the sans-IO core may not import "${spec}"`);
        }
      }
      for (const b of banned) {
        for (const pat of b.patterns) {
          if (new RegExp(pat).test(text.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '')))
            problems.push(`${rel}: the sans-IO core may not use ${pat.replace(/\\/g, '')}`);
        }
      }
    }
  }
  return problems;
}

describe('module boundaries', () => {
  it('every import follows the tag rules, uses the package entry, is declared, and the core stays sans-IO', () => {
    expect(violations()).toEqual([]);
  });

  it('the checker catches an import against the intended direction', () => {
    // protocol is the bottom layer: an import of actors from it must be refused by the rules.
    const protocolRule = rules.depConstraints.find((c) => c.sourceTag === 'scope:protocol')!;
    const actors = projects().find((p) => p.pkg === '@txtest/actors')!;
    expect(actors.tags.some((t) => protocolRule.onlyDependOnLibsWithTags.includes(t))).toBe(false);
    expect(importsOf("import { Processor } from '@txtest/actors';\nexport * from './x';")).toEqual(['@txtest/actors', './x']);
  });

  it('every project is tagged with a scope that has a rule', () => {
    for (const p of projects()) {
      if (p.tags.includes('layer:tool')) continue;
      const scope = p.tags.find((t) => t.startsWith('scope:'));
      expect(scope, `${p.name} has no scope tag`).toBeDefined();
      expect(
        rules.depConstraints.some((c) => c.sourceTag === scope),
        `${p.name}: no rule for ${scope}`,
      ).toBe(true);
    }
  });
});
