/**
 * `--html FILE`: one self-contained page (no network: the data and the drawing code
 * are inline) with three plots drawn as SVG by a small script: throughput over time,
 * latency percentiles over time (log scale), and the latency distribution as a
 * percentile spectrum (x: 1/(1-p) on a log scale, as HdrHistogram plots it). Failovers
 * and drill kills are marked on both time axes.
 */
import { readFileSync } from 'node:fs';
import { fmtInt, fmtUs, type RunReport } from './report';

/** The drawing code, plain browser JavaScript kept in its own file and inlined as is. */
const CLIENT_JS = readFileSync(new URL('./report-html-client.js', import.meta.url), 'utf8');

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1100px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 6px; }
.sub { color: #666; margin-bottom: 12px; }
.figs { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 12px 0; }
.fig b { display: block; font-size: 18px; } .fig span { color: #666; font-size: 12px; }
svg { background: #fff; border: 1px solid #ddd; }
svg text { font-size: 11px; fill: #444; } svg .axis { stroke: #999; } svg .grid { stroke: #eee; }
svg .series { fill: none; stroke-width: 1.6; } svg .warmup { fill: #f3f3f3; }
svg .failover { stroke: #d62728; stroke-dasharray: 4 3; stroke-width: 1.2; } svg .kill { stroke: #000; stroke-dasharray: 2 2; }
.bad { color: #b00; font-weight: 600; } .good { color: #070; font-weight: 600; }
ul.v { margin: 4px 0; }
`;

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

export function reportHtml(r: RunReport): string {
  const m = r.measured;
  const s = r.settings;
  const fig = (value: string, label: string) => `<div class="fig"><b>${esc(value)}</b><span>${esc(label)}</span></div>`;
  const load = r.mode === 'open loop' ? `open loop at ${fmtInt(s.ratePerS as number)}/s` : `closed loop, ${s.inFlight} in flight`;
  const audit =
    r.audit === null
      ? ''
      : `<h2>Audit</h2><p class="${r.audit.clean ? 'good' : 'bad'}">${r.audit.clean ? `clean: ${fmtInt(r.audit.acked)} acked updates over ${fmtInt(r.audit.assetsChecked)} assets exact` : `FAILED: ${r.audit.violations.length} violation(s)`}</p><p>${esc(r.audit.digest.note)}</p>${
          r.audit.violations.length > 0
            ? `<ul class="v">${r.audit.violations
                .slice(0, 20)
                .map((v) => `<li>${esc(v)}</li>`)
                .join('')}</ul>`
            : ''
        }`;
  const drill =
    r.drill === null
      ? ''
      : `<h2>Failover drill</h2><p>${r.drill.kills.length} kill(s); gap from SIGKILL to the first ok from the new primary: median ${r.drill.medianGapMs?.toFixed(1) ?? '-'} ms, worst ${r.drill.worstGapMs?.toFixed(1) ?? '-'} ms.</p>`;
  // The JSON goes into a script element: "<" is escaped so no value can close it.
  const json = JSON.stringify(r).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>txtest-loadgen report ${esc(r.startedAt)}</title><style>${STYLE}</style></head>
<body>
<h1>txtest-loadgen: ${esc(String(s.workload))} workload</h1>
<div class="sub">${esc(r.startedAt)} · ${esc(load)} · ${s.clients} client(s) · batching ${s.batch ? 'on' : 'off'} · ${m.seconds} s measured after ${s.warmupS} s warm-up · ${esc(String((s.nats as { url: string }).url))}</div>
<div class="figs">${fig(`${fmtInt(m.updatesPerSec)}/s`, 'committed updates')}${fig(fmtUs(m.latencyUs.p50Us), 'p50')}${fig(fmtUs(m.latencyUs.p90Us), 'p90')}${fig(fmtUs(m.latencyUs.p99Us), 'p99')}${fig(fmtUs(m.latencyUs.p999Us), 'p99.9')}${fig(fmtUs(m.latencyUs.maxUs), 'max')}${fig(fmtInt(m.errorsTotal), 'errors')}${fig(fmtInt(m.timeouts), 'timeouts')}${fig(fmtInt(m.retriesTotal), 'retries')}${fig(`${m.clientCpuUsPerUpdate} µs`, 'client CPU / update')}</div>
<div id="plots"></div>
${drill}${audit}
<script id="report-data" type="application/json">${json}</script>
<script>${CLIENT_JS}</script>
</body></html>
`;
}
