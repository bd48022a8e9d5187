/** The final table on stdout: what an engineer reads first. */
import { fmtInt, fmtUs, type RunReport } from './report';

export function reportTable(r: RunReport): string {
  const s = r.settings;
  const m = r.measured;
  const lines: string[] = [];
  const load = r.mode === 'open loop' ? `open loop at ${fmtInt(s.ratePerS as number)}/s` : `closed loop, ${s.inFlight} in flight`;
  lines.push(
    `txtest-loadgen: ${s.workload} workload, ${load}, ${s.clients} client(s) in ${Math.max(1, s.workers as number)} thread(s), batching ${s.batch ? 'on' : 'off'}, ${m.seconds} s measured after ${s.warmupS} s warm-up`,
  );
  lines.push('');
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(26)}${v}`);
  row('committed updates/s', `${fmtInt(m.updatesPerSec)}   (${fmtInt(m.committed)} committed: ${fmtInt(m.ok)} ok, ${fmtInt(m.rejected)} REJECTED)`);
  row(
    `latency${r.mode === 'open loop' ? ' (from intended send)' : ''}`,
    `p50 ${fmtUs(m.latencyUs.p50Us)}   p90 ${fmtUs(m.latencyUs.p90Us)}   p99 ${fmtUs(m.latencyUs.p99Us)}   p99.9 ${fmtUs(m.latencyUs.p999Us)}   max ${fmtUs(m.latencyUs.maxUs)}`,
  );
  row('errors', byCode(m.errorsTotal, m.errors));
  row('timeouts (no outcome)', fmtInt(m.timeouts));
  row('retries', byCode(m.retriesTotal, m.retries));
  row('client CPU per update', `${m.clientCpuUsPerUpdate} µs`);
  const fo = r.failovers.filter((f) => f.from !== null);
  if (fo.length > 0) row('failovers seen', fo.map((f) => `${f.from} -> ${f.to} at ${f.tS.toFixed(2)} s`).join('; '));
  if (r.drill !== null) {
    lines.push('');
    lines.push('  drill: kill  node  pid       gap to first ok   throughput dip');
    for (const k of r.drill.kills) {
      lines.push(
        `         ${String(k.n).padStart(4)}  ${k.killed.padEnd(5)} ${String(k.pid).padEnd(9)} ${(k.gapMs === null ? 'none' : `${k.gapMs.toFixed(1)} ms`).padEnd(17)} ${k.dipPct.toFixed(0)}% (${fmtInt(k.rateBefore)}/s -> ${fmtInt(k.rateMinAfter)}/s)`,
      );
    }
    if (r.drill.worstGapMs !== null)
      row('failover gap', `median ${r.drill.medianGapMs!.toFixed(1)} ms, worst ${r.drill.worstGapMs.toFixed(1)} ms over ${r.drill.kills.length} kill(s)`);
  }
  if (r.audit !== null) {
    const a = r.audit;
    lines.push('');
    row(
      'audit',
      a.clean
        ? `clean: ${fmtInt(a.acked)} acked updates over ${fmtInt(a.assetsChecked)} assets exact, ${a.retriedAtEnd} unresolved retried, ${a.replayed} replays identical`
        : `FAILED: ${a.violations.length}${a.violations.length >= 100 ? '+' : ''} violation(s)`,
    );
    row('standby digest', a.digest.note);
    for (const v of a.violations.slice(0, 10)) lines.push(`    - ${v}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A total and its split by code: `0`, or `12   (TIMEOUT 10, NOT_PRIMARY 2)`. */
function byCode(total: number, counts: Record<string, number>): string {
  if (total === 0) return '0';
  return `${fmtInt(total)}   (${Object.entries(counts)
    .map(([c, n]) => `${c} ${fmtInt(n)}`)
    .join(', ')})`;
}
