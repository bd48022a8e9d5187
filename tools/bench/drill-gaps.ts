/**
 * Where each failover gap of a drill went, from the drill's JSON report and the node logs
 * it kept (`txtest-loadgen drill --json DIR/drill.json --log-dir DIR/logs`): per kill,
 * the kill to the standby's decision (`-> promoting`), the decision to serving
 * (`promoting ->`), and from serving to the first ok the client saw. The report's kill
 * times are on the loadgen's clock, 10-20 ms behind the logs', so a few client shares
 * read negative.
 * Run: npx tsx tools/bench/drill-gaps.ts DIR
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunReport } from '../../apps/loadgen/src/report';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: npx tsx tools/bench/drill-gaps.ts DIR (holding drill.json and logs/)');
const report = JSON.parse(readFileSync(join(dir, 'drill.json'), 'utf8')) as RunReport;
const t0 = Date.parse(report.startedAt);
type Line = { time: number; from?: string; to?: string };
const lines: Line[] = readdirSync(join(dir, 'logs'))
  .filter((f) => f.endsWith('.log'))
  .flatMap((f) => readFileSync(join(dir, 'logs', f), 'utf8').split('\n'))
  .filter((l) => l.includes('"to":"promoting"') || l.includes('"from":"promoting"'))
  .map((l) => JSON.parse(l) as Line)
  .sort((a, b) => a.time - b.time);
console.log('kill  gap ms  detected  promotion  client');
for (const k of report.drill?.kills ?? []) {
  const at = t0 + k.killAtS * 1000;
  const decided = lines.find((l) => l.to === 'promoting' && l.time > at);
  const serving = lines.find((l) => l.from === 'promoting' && l.time > at);
  if (decided === undefined || serving === undefined || k.gapMs === null) {
    console.log(`${String(k.n).padStart(4)}  no promotion logged after the kill`);
    continue;
  }
  const cells = [k.gapMs, decided.time - at, serving.time - decided.time, k.gapMs - (serving.time - at)].map((x) => x.toFixed(0).padStart(8));
  console.log(`${String(k.n).padStart(4)}  ${cells.join('  ')}`);
}
