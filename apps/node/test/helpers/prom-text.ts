/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), for tests:
 * it throws, naming the line, on anything a scraper could choke on: a sample before
 * its TYPE, a second TYPE, a bad name, label or value, a duplicate series, histogram
 * buckets that are not cumulative or lack `+Inf`, a `_count` that differs from it.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string | null;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function fail(lineNo: number, line: string, why: string): never {
  throw new Error(`prometheus text line ${lineNo}: ${why}: ${JSON.stringify(line)}`);
}

/**
 * Values as Prometheus reads them (Go's strconv.ParseFloat): NaN and Inf in any letter
 * case. prom-client writes NaN as "Nan", which Prometheus therefore accepts.
 */
function parseValue(text: string, lineNo: number, line: string): number {
  if (/^nan$/i.test(text)) return Number.NaN;
  if (/^\+?inf(inity)?$/i.test(text)) return Number.POSITIVE_INFINITY;
  if (/^-inf(inity)?$/i.test(text)) return Number.NEGATIVE_INFINITY;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) fail(lineNo, line, `bad value "${text}"`);
  return Number(text);
}

/** Labels from `{a="x",b="y\"z"}`; returns them and the index after the closing brace. */
function parseLabels(line: string, start: number, lineNo: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    if (line[i] === '}') return [labels, i + 1];
    const eq = line.indexOf('=', i);
    if (eq < 0) fail(lineNo, line, 'label without =');
    const name = line.slice(i, eq);
    if (!LABEL_NAME.test(name)) fail(lineNo, line, `bad label name "${name}"`);
    if (name in labels) fail(lineNo, line, `label "${name}" twice`);
    if (line[eq + 1] !== '"') fail(lineNo, line, 'label value not quoted');
    let j = eq + 2;
    let value = '';
    for (;;) {
      const c = line[j];
      if (c === undefined) fail(lineNo, line, 'unterminated label value');
      if (c === '"') break;
      if (c === '\\') {
        const e = line[j + 1];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else fail(lineNo, line, `bad escape \\${e}`);
        j += 2;
        continue;
      }
      value += c;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') fail(lineNo, line, 'expected , or } after a label');
  }
}

/** The family a sample name belongs to, given the families declared so far. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const exact = families.get(name);
  if (exact !== undefined) return exact;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const f = families.get(name.slice(0, -suffix.length));
    if (f !== undefined && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
  }
  return undefined;
}

export function parsePromText(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('prometheus text must end with a newline');
  const families = new Map<string, Family>();
  const series = new Set<string>();
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, k) => {
    const lineNo = k + 1;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (m === null) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) fail(lineNo, line, `bad metric name "${name}"`);
      const f = families.get(name);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) fail(lineNo, line, `unknown type "${rest}"`);
        if (f !== undefined && f.samples.length > 0) fail(lineNo, line, 'TYPE after samples');
        if (f !== undefined && f.type !== 'untyped') fail(lineNo, line, 'second TYPE');
        if (f === undefined) families.set(name, { name, type: rest as Family['type'], help: null, samples: [] });
        else f.type = rest as Family['type'];
      } else {
        if (f?.help != null) fail(lineNo, line, 'second HELP');
        const help = rest.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
        if (f === undefined) families.set(name, { name, type: 'untyped', help, samples: [] });
        else f.help = help;
      }
      return;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) fail(lineNo, line, 'no metric name');
    const name = line.slice(0, nameEnd);
    if (!NAME.test(name)) fail(lineNo, line, `bad metric name "${name}"`);
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (line[i] === '{') [labels, i] = parseLabels(line, i, lineNo);
    if (line[i] !== ' ') fail(lineNo, line, 'expected a space before the value');
    const parts = line.slice(i + 1).split(' ');
    if (parts.length > 2 || parts[0] === '') fail(lineNo, line, 'expected "value [timestamp]"');
    const value = parseValue(parts[0]!, lineNo, line);
    if (parts.length === 2 && !/^-?\d+$/.test(parts[1]!)) fail(lineNo, line, 'bad timestamp');
    const f = familyOf(name, families);
    if (f === undefined) fail(lineNo, line, `sample of "${name}" without a TYPE before it`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) fail(lineNo, line, 'duplicate series');
    series.add(key);
    f.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}: a bucket without le`);
      g.buckets.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), s.value]);
    } else if (s.name === `${f.name}_count`) g.count = s.value;
    else if (s.name === `${f.name}_sum`) g.sum = s.value;
    else throw new Error(`${f.name}: unexpected sample ${s.name}`);
  }
  for (const [key, g] of groups) {
    const bs = g.buckets;
    if (bs.length === 0 || bs[bs.length - 1]![0] !== Number.POSITIVE_INFINITY) throw new Error(`${f.name}${key}: no +Inf bucket last`);
    for (let i = 1; i < bs.length; i++) {
      if (!(bs[i]![0] > bs[i - 1]![0])) throw new Error(`${f.name}${key}: le not increasing`);
      if (bs[i]![1] < bs[i - 1]![1]) throw new Error(`${f.name}${key}: buckets not cumulative`);
    }
    if (g.count === undefined || g.sum === undefined) throw new Error(`${f.name}${key}: _count or _sum missing`);
    if (g.count !== bs[bs.length - 1]![1]) throw new Error(`${f.name}${key}: _count ${g.count} differs from the +Inf bucket ${bs[bs.length - 1]![1]}`);
  }
}

/** The value of one series; `labels` must match exactly the labels other than the node's own (`node`, `shard`). */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      const { node: _node, shard: _shard, ...rest } = s.labels;
      if (JSON.stringify(Object.entries(rest).sort()) === JSON.stringify(Object.entries(labels).sort())) return s.value;
    }
  }
  throw new Error(`no series ${name}${JSON.stringify(labels)}`);
}
