/**
 * argv + env -> the values of a flag table, on node:util parseArgs in strict mode.
 * Strict mode decides what is refused; a loose pass over the same arguments first finds
 * the offending token, so that the refusal is one sentence naming the flag. A string
 * flag whose value is missing never takes the next flag as its value.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { convert, envBool, onOffWord } from './convert';
import { CliError, ValueError } from './errors';
import type { Flag, RefusedFlag, Values } from './flags';
import { helpText } from './help';
import { version } from './version';

export interface Command<F extends readonly Flag[]> {
  /** As the user types it, e.g. `txtest-loadgen drill`: names it in --help and --version. */
  readonly prog: string;
  /** Usage lines after the program name, e.g. `[flags]`. */
  readonly usage: readonly string[];
  /** Lines between the usage and the flags. */
  readonly about?: readonly string[];
  readonly flags: F;
  /** Positional arguments taken (none when absent): at most `max`, named for errors. */
  readonly positionals?: { readonly max: number; readonly names: string };
}

export type Parsed<F extends readonly Flag[]> =
  { readonly kind: 'run'; readonly values: Values<F>; readonly positionals: readonly string[] } | { readonly kind: 'help' | 'version'; readonly text: string };

type Token = NonNullable<ReturnType<typeof parseArgs>['tokens']>[number];
type Option = Extract<Token, { kind: 'option' }>;
type Valued = Exclude<Flag, RefusedFlag>;

function optionsOf(flags: readonly Flag[]): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } };
  for (const f of flags) {
    if (f.name in options) throw new Error(`flag table: --${f.name} is defined twice (or is a built-in)`);
    options[f.name] = f.type === 'bool' ? { type: 'boolean' } : { type: 'string', multiple: f.type === 'string' && f.multiple === true };
  }
  return options;
}

/** `--batch on` / `--batch=off` -> `--batch` / `--no-batch`, for the flags documented with on|off. */
function onOffForms(flags: readonly Flag[], argv: readonly string[]): string[] {
  const onOff = new Set(flags.filter((f) => f.type === 'bool' && f.onOff === true).map((f) => f.name));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    let word = m?.[2];
    if (m === null || !onOff.has(m[1]!)) {
      out.push(arg);
      continue;
    }
    if (word === undefined && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) word = argv[++i];
    if (word === undefined) out.push(arg);
    else out.push(valueOrRefuse(`--${m[1]}`, () => onOffWord(word)) ? `--${m[1]}` : `--no-${m[1]}`);
  }
  return out;
}

function valueOrRefuse<T>(source: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ValueError) throw new CliError(`${source}: ${err.message}`);
    throw err;
  }
}

/** The first token strict mode would refuse, as one sentence naming it. */
function diagnose(cmd: Command<readonly Flag[]>, tokens: readonly Token[]): void {
  const byName = new Map(cmd.flags.map((f) => [f.name, f]));
  for (const t of tokens) {
    if (t.kind === 'option-terminator') return;
    if (t.kind === 'positional') {
      if (cmd.positionals === undefined) throw new CliError(`unexpected argument "${t.value}" (flags start with --; see --help)`);
      continue;
    }
    const f = byName.get(t.name);
    if (f === undefined) throw new CliError(`${t.rawName}: unknown flag (see --help)`);
    if (f.type === 'refused') throw new CliError(`${t.rawName}: ${f.reason}`);
    if (f.type === 'bool') {
      if (t.inlineValue === true)
        throw new CliError(`${t.rawName}: takes no value (write --${f.name} or --no-${f.name}${f.onOff === true ? `, or --${f.name} on|off` : ''})`);
      continue;
    }
    missing(t);
  }
}

function missing(t: Option): void {
  if (t.value === undefined) throw new CliError(`${t.rawName}: missing value`);
  // As strict mode: "-" alone is a value (stdout, by convention), "-x" looks like a flag.
  if (t.inlineValue !== true && t.value.length > 1 && t.value.startsWith('-')) {
    throw new CliError(`${t.rawName}: missing value (the next argument "${t.value}" is a flag; write ${t.rawName}=${t.value} if it is the value)`);
  }
}

type Given = string | boolean | (string | boolean)[] | undefined;

/** A flag's value: from argv, else its env variable (empty counts as unset), else its default. */
function valueOf(f: Valued, given: Given, env: NodeJS.ProcessEnv): unknown {
  const fromEnv = f.env === undefined || env[f.env] === undefined || env[f.env] === '' ? undefined : env[f.env]!;
  const envSource = `${f.env} (--${f.name})`;
  if (f.type === 'bool') {
    if (typeof given === 'boolean') return given;
    if (fromEnv !== undefined) return valueOrRefuse(envSource, () => envBool(fromEnv));
    return f.default ?? false;
  }
  if (f.type === 'string' && f.multiple === true) {
    const raws = Array.isArray(given) ? (given as string[]) : fromEnv !== undefined ? [fromEnv] : [];
    const source = Array.isArray(given) ? `--${f.name}` : envSource;
    return raws.map((raw) => valueOrRefuse(source, () => convert(f, raw)));
  }
  const [raw, source] =
    typeof given === 'string' ? [given, `--${f.name}`] : fromEnv !== undefined ? [fromEnv, envSource] : [f.default, `--${f.name} (default)`];
  if (raw === undefined) {
    if (f.type === 'string' && f.required === true) throw new CliError(`--${f.name}: required${f.env === undefined ? '' : ` (or set ${f.env})`}: ${f.help}`);
    return f.type === 'list' ? [] : undefined;
  }
  return valueOrRefuse(source, () => convert(f, raw));
}

export function parseCommand<const F extends readonly Flag[]>(cmd: Command<F>, argv: readonly string[], env: NodeJS.ProcessEnv): Parsed<F> {
  const options = optionsOf(cmd.flags);
  const args = onOffForms(cmd.flags, argv);
  const loose = parseArgs({ args, options, strict: false, allowPositionals: true, allowNegative: true, tokens: true });
  const asked = (name: string) => loose.tokens.some((t) => t.kind === 'option' && t.name === name);
  if (asked('help')) return { kind: 'help', text: helpText(cmd) };
  if (asked('version')) return { kind: 'version', text: `${cmd.prog.split(' ')[0]} ${version()}` };
  diagnose(cmd, loose.tokens);
  let strict: ReturnType<typeof parseArgs>;
  try {
    strict = parseArgs({ args, options, strict: true, allowPositionals: cmd.positionals !== undefined, allowNegative: true });
  } catch (err) {
    // diagnose() names every refusal strict mode makes today; this keeps a future one to one line.
    throw new CliError((err as Error).message.split('\n')[0]!);
  }
  if (cmd.positionals !== undefined && strict.positionals.length > cmd.positionals.max) {
    throw new CliError(`unexpected argument "${strict.positionals[cmd.positionals.max]}" (${cmd.prog} takes ${cmd.positionals.names})`);
  }
  const values: Record<string, unknown> = {};
  for (const f of cmd.flags) if (f.type !== 'refused') values[f.name] = valueOf(f, strict.values[f.name], env);
  return { kind: 'run', values: values as Values<F>, positionals: strict.positionals };
}
