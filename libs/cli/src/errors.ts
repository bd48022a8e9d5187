/**
 * A usage error: one sentence naming the flag and what is wrong with it. A binary
 * prints it after its name and exits with code 2.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/**
 * Thrown by a flag's `parse` (and the built-in types) for text that is not a valid
 * value; the parser prefixes the flag (or env variable) it came from.
 */
export class ValueError extends Error {
  override readonly name = 'ValueError';
}

/** The usual complaint: `expected <what>, got "<raw>"`. */
export function expected(what: string, raw: string): ValueError {
  return new ValueError(`expected ${what}, got "${raw}"`);
}
