/**
 * The declarative flag table every binary describes itself with. One entry per flag:
 * its name, its type, an optional environment variable and default, and the help line.
 * Values<typeof TABLE> is the parsed result, typed from the table itself.
 */

interface FlagBase {
  /** The flag without its leading dashes, e.g. `heartbeat-missed`. */
  readonly name: string;
  readonly help: string;
  /** Read when the flag is not given: the flag beats the variable, which beats the default. */
  readonly env?: string;
  /** How --help names the value, e.g. `file` for `--nats-creds <file>`. */
  readonly value?: string;
  /** What --help shows as the default when the binary computes it, e.g. `./data/<id>`. */
  readonly defaultHelp?: string;
}

/** Text. `parse` turns it into the binary's own type, throwing ValueError for bad text. */
export interface StringFlag extends FlagBase {
  readonly type: 'string';
  readonly default?: string;
  readonly required?: boolean;
  /** Repeatable: every occurrence is kept, in order. */
  readonly multiple?: boolean;
  readonly parse?: (raw: string) => unknown;
}

export interface IntFlag extends FlagBase {
  readonly type: 'int';
  readonly default?: string;
  readonly min?: number;
  readonly max?: number;
}

/** A decimal number; `above` is an exclusive lower bound. */
export interface NumberFlag extends FlagBase {
  readonly type: 'number';
  readonly default?: string;
  readonly min?: number;
  readonly max?: number;
  readonly above?: number;
}

/**
 * A length of time, parsed to milliseconds: `250ms`, `5s`, `2m`. A plain number is
 * taken in `unit`, which a name ending in -ms or -s implies; without a unit a plain
 * number is refused. Bounds are in milliseconds.
 */
export interface DurationFlag extends FlagBase {
  readonly type: 'duration';
  readonly default?: string;
  readonly unit?: 'ms' | 's';
  readonly min?: number;
  readonly max?: number;
  readonly above?: number;
  /** A whole number of milliseconds. */
  readonly whole?: boolean;
}

/**
 * `--flag` / `--no-flag`. `onOff` also accepts the value forms `--flag on|off` and
 * `--flag=on|off`, for flags documented that way. An env variable reads 1/0, true/false,
 * yes/no or on/off.
 */
export interface BoolFlag extends FlagBase {
  readonly type: 'bool';
  readonly default?: boolean;
  readonly onOff?: boolean;
}

export interface EnumFlag extends FlagBase {
  readonly type: 'enum';
  readonly values: readonly string[];
  readonly default?: string;
}

/** Comma-separated words; empty items are dropped. */
export interface ListFlag extends FlagBase {
  readonly type: 'list';
  readonly default?: string;
}

/** A flag this binary knows but does not take, refused with the reason (e.g. the drill sets it itself). */
export interface RefusedFlag {
  readonly type: 'refused';
  readonly name: string;
  readonly reason: string;
}

export type Flag = StringFlag | IntFlag | NumberFlag | DurationFlag | BoolFlag | EnumFlag | ListFlag | RefusedFlag;

type ValueOf<F> = F extends { type: 'bool' }
  ? boolean
  : F extends { parse: (raw: string) => infer R }
    ? F extends { multiple: true }
      ? R[]
      : R
    : F extends { type: 'int' | 'number' | 'duration' }
      ? number
      : F extends { type: 'enum'; values: readonly (infer V)[] }
        ? V
        : F extends { type: 'list' } | { multiple: true }
          ? string[]
          : string;

/** Flags that always have a value: booleans, lists, repeatables, and those with a default or required. */
type Always<F> = F extends { type: 'bool' | 'list' } | { multiple: true } | { default: string } | { required: true } ? true : false;

/** The parsed flags, keyed by flag name; a flag with neither a value nor a default is undefined. */
export type Values<T extends readonly Flag[]> = {
  readonly [F in T[number] as F extends { type: 'refused' } ? never : F['name']]: Always<F> extends true ? ValueOf<F> : ValueOf<F> | undefined;
};

/** Table entries for flags refused with one reason, e.g. those a subcommand sets itself. */
export function refused(reason: string, names: readonly string[]): RefusedFlag[] {
  return names.map((name) => ({ type: 'refused', name, reason }));
}
