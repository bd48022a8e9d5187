// Sums the per-project vitest JSON reports into one closing line, "N passed, N failed",
// so a reader (or CI) sees the whole run's count in one place.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = new URL('../tmp/test-results/', import.meta.url).pathname;
let passed = 0,
  failed = 0,
  skipped = 0,
  files = 0;
for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
  const r = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  files++;
}
console.log(`\nTest projects: ${files}`);
console.log(`Tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
