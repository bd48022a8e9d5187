/**
 * Text to value for each flag type. The same text means the same thing whether it came
 * from argv, an env variable or the table's default.
 */
import { expected } from './errors';
import type { DurationFlag, Flag, IntFlag, NumberFlag } from './flags';

const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];

/** An env variable's boolean: 1/0, true/false, yes/no or on/off. */
export function envBool(raw: string): boolean {
  const v = raw.toLowerCase();
  if (TRUE.includes(v)) return true;
  if (FALSE.includes(v)) return false;
  throw expected('1 or 0 (or true/false, yes/no, on/off)', raw);
}

/** The value word of an `onOff` flag (`--batch on`): on or off only, as documented. */
export function onOffWord(raw: string): boolean {
  if (raw === 'on') return true;
  if (raw === 'off') return false;
  throw expected('on or off', raw);
}

function bounds(f: { min?: number; max?: number; above?: number }, show: (n: number) => string = String): string {
  const lower = f.above !== undefined ? `> ${show(f.above)}` : f.min !== undefined ? `>= ${show(f.min)}` : null;
  if (lower !== null && f.max !== undefined) return f.above === undefined ? ` between ${show(f.min!)} and ${show(f.max)}` : ` ${lower} and <= ${show(f.max)}`;
  if (lower !== null) return ` ${lower}`;
  return f.max !== undefined ? ` <= ${show(f.max)}` : '';
}

function inBounds(n: number, f: { min?: number; max?: number; above?: number }): boolean {
  return !(f.min !== undefined && n < f.min) && !(f.above !== undefined && n <= f.above) && !(f.max !== undefined && n > f.max);
}

function integer(f: IntFlag, raw: string): number {
  const n = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || !inBounds(n, f)) throw expected(`an integer${bounds(f)}`, raw);
  return n;
}

function decimal(f: NumberFlag, raw: string): number {
  const n = /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || !inBounds(n, f)) throw expected(`a number${bounds(f)}`, raw);
  return n;
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

/** The unit a plain number is taken in: declared, or implied by a name ending in -ms or -s. */
export function plainUnit(f: Pick<DurationFlag, 'name' | 'unit'>): 'ms' | 's' | undefined {
  return f.unit ?? (f.name.endsWith('-ms') ? 'ms' : f.name.endsWith('-s') ? 's' : undefined);
}

function showMs(ms: number): string {
  return ms !== 0 && ms % 60_000 === 0 ? `${ms / 60_000}m` : ms !== 0 && ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * A duration in milliseconds: `250ms`, `5s`, `1.5s`, `2m`, or a plain number in the
 * flag's unit. Bounds are in milliseconds.
 */
export function parseDuration(f: Pick<DurationFlag, 'name' | 'unit' | 'min' | 'max' | 'above' | 'whole'>, raw: string): number {
  const unit = plainUnit(f);
  const m = /^(\d+\.?\d*|\.\d+)(ms|s|m)?$/.exec(raw);
  const what = `a duration such as 250ms or 5s${unit === undefined ? '' : ` (a plain number is ${unit === 'ms' ? 'milliseconds' : 'seconds'})`}`;
  if (m === null || (m[2] === undefined && unit === undefined)) throw expected(what, raw);
  const ms = Number(m[1]) * UNIT_MS[(m[2] ?? unit) as keyof typeof UNIT_MS];
  if (f.whole === true && !Number.isInteger(ms)) throw expected('a whole number of milliseconds', raw);
  if (!inBounds(ms, f)) throw expected(`a duration${bounds(f, showMs)}`, raw);
  return ms;
}

/** The value of `raw` for flag `f` (not a bool: those come from the flag form or envBool). */
export function convert(f: Exclude<Flag, { type: 'bool' | 'refused' }>, raw: string): unknown {
  switch (f.type) {
    case 'string':
      return f.parse === undefined ? raw : f.parse(raw);
    case 'int':
      return integer(f, raw);
    case 'number':
      return decimal(f, raw);
    case 'duration':
      return parseDuration(f, raw);
    case 'enum':
      if (!f.values.includes(raw)) throw expected(f.values.length === 2 ? `${f.values[0]} or ${f.values[1]}` : `one of ${f.values.join(', ')}`, raw);
      return raw;
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
  }
}
