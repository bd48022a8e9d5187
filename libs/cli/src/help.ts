/** The generated --help: usage, the binary's own paragraphs, then one line per flag. */
import { plainUnit } from './convert';
import type { Flag, RefusedFlag } from './flags';
import type { Command } from './parse';

/** The widest left column; a longer flag form pushes only its own help line right. */
const LEFT_MAX = 34;

function placeholder(f: Exclude<Flag, { type: 'bool' | 'refused' }>): string {
  if (f.value !== undefined) return f.value;
  switch (f.type) {
    case 'enum':
      return f.values.join('|');
    case 'duration':
      return plainUnit(f) ?? 'duration';
    case 'int':
    case 'number':
      return 'n';
    case 'list':
      return 'a,b,...';
    case 'string':
      return 'value';
  }
}

function form(f: Exclude<Flag, RefusedFlag>): string {
  if (f.type === 'bool') return f.onOff === true ? `--${f.name} on|off` : `--[no-]${f.name}`;
  return `--${f.name} <${placeholder(f)}>`;
}

function describe(f: Exclude<Flag, RefusedFlag>): string {
  const def = f.type === 'bool' ? (f.default === true ? 'on' : f.onOff === true ? 'off' : undefined) : (f.default ?? f.defaultHelp);
  const parts = [f.help];
  if (f.type === 'string' && f.multiple === true) parts.push('(repeatable)');
  if (f.type === 'string' && f.required === true) parts.push('(required)');
  if (def !== undefined) parts.push(`[${def}]`);
  if (f.env !== undefined) parts.push(`(env ${f.env})`);
  return parts.join(' ');
}

/** How values are written, for the kinds of flag this table has. */
function legend(flags: readonly Exclude<Flag, RefusedFlag>[]): string[] {
  const out: string[] = [];
  if (flags.some((f) => f.env !== undefined)) out.push('A flag beats its environment variable, which beats the default.');
  if (flags.some((f) => f.type === 'bool'))
    out.push(
      `Booleans: --flag or --no-flag${flags.some((f) => f.type === 'bool' && f.onOff === true) ? ' (those shown with on|off also take on or off)' : ''}.`,
    );
  if (flags.some((f) => f.type === 'duration')) out.push('Durations: 250ms, 5s, 2m; a plain number is in the unit shown (<ms>, <s>).');
  return out;
}

export function helpText(cmd: Command<readonly Flag[]>): string {
  const lines = cmd.usage.map((u, i) => `${i === 0 ? 'Usage: ' : '       '}${cmd.prog}${u === '' ? '' : ` ${u}`}`);
  if (cmd.about !== undefined && cmd.about.length > 0) lines.push('', ...cmd.about);
  const shown = cmd.flags.filter((f): f is Exclude<Flag, RefusedFlag> => f.type !== 'refused');
  const rows = shown.map((f) => [`  ${form(f)}`, describe(f)] as const);
  const width = Math.min(LEFT_MAX, Math.max(...rows.map(([l]) => l.length)));
  lines.push('', 'Flags:', ...rows.map(([l, r]) => `${l.padEnd(width)}  ${r}`));
  const refused = cmd.flags.filter((f): f is RefusedFlag => f.type === 'refused');
  for (const reason of new Set(refused.map((f) => f.reason))) {
    lines.push(
      `  ${refused
        .filter((f) => f.reason === reason)
        .map((f) => `--${f.name}`)
        .join(', ')}: ${reason}`,
    );
  }
  lines.push(`  ${'-h, --help'.padEnd(width - 2)}  this text`, `  ${'--version'.padEnd(width - 2)}  the version`, '', ...legend(shown));
  return lines.join('\n');
}
