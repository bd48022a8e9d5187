/**
 * Where a process's CPU went: self time by function (and by file) from a V8
 * `.cpuprofile`, as written by `node --cpu-prof` (tools/bench/node-bench.sh takes
 * `NODE_FLAGS="--cpu-prof --cpu-prof-dir DIR"`). Shares are of the busy time (idle and
 * the program's own wait excluded), so two profiles of different lengths compare.
 *
 *   npx tsx tools/bench/cpu-top.ts [--top 40] [--by function|file] FILE.cpuprofile...
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Samples V8 attributes to no JavaScript: waiting in the event loop. */
const IDLE = new Set(['(idle)', '(program)']);

function shortUrl(url: string): string {
  const i = url.lastIndexOf('/node_modules/');
  if (i >= 0) return url.slice(i + '/node_modules/'.length);
  const j = url.search(/\/(apps|libs|tools)\//);
  if (j >= 0) return url.slice(j + 1);
  return url.replace(/^node:/, '') || '(native)';
}

function summarise(file: string, top: number, by: 'function' | 'file'): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const label = new Map<number, string>();
  for (const n of profile.nodes) {
    const { functionName, url, lineNumber } = n.callFrame;
    const where = shortUrl(url);
    if (IDLE.has(functionName) || functionName === '(garbage collector)') label.set(n.id, functionName);
    else label.set(n.id, by === 'file' ? where : `${functionName || '(anonymous)'}  ${where}:${lineNumber + 1}`);
  }
  const self = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const name = label.get(profile.samples[i]) ?? '?';
    const us = profile.timeDeltas[i] ?? 0;
    if (IDLE.has(name)) {
      idle += us;
      continue;
    }
    busy += us;
    self.set(name, (self.get(name) ?? 0) + us);
  }
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  console.log(`# ${file}: busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s`);
  for (const [name, us] of rows) console.log(`${((100 * us) / busy).toFixed(1).padStart(5)}%  ${name}`);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '40' }, by: { type: 'string', default: 'function' } },
});
const by = values.by === 'file' ? 'file' : 'function';
for (const file of positionals) summarise(file, Number(values.top), by);
