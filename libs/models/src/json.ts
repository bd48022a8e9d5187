/**
 * Helpers for "JSON-like" values: null, booleans, finite numbers, strings, arrays and
 * plain objects. Model states must stay within this set because the node encodes them
 * with both MessagePack and JSON and the two must agree (digests, snapshots, queries).
 */

/**
 * Deepest nesting accepted. Both the check below and `jsonEqual` recurse, so an
 * unbounded depth would let one request overflow the stack inside `apply`, which must
 * never throw for validated input.
 */
export const MAX_JSON_DEPTH = 64;

/** Where and why a value is not JSON-like. Only built on failure so the success path allocates nothing. */
interface Fault {
  /** Path segments, innermost first (prepended while unwinding would copy). */
  readonly reversedPath: string[];
  readonly reason: string;
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'object' || v === null) return typeof v;
  const ctor = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return ctor ? `a ${ctor}` : 'an object';
}

function fault(v: unknown, depth: number): Fault | null {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      // NaN and the infinities have no JSON spelling; JSON.stringify would write null.
      return Number.isFinite(v) ? null : { reversedPath: [], reason: `must be a finite number (got ${describe(v)})` };
    case 'object': {
      if (v === null) return null;
      if (depth >= MAX_JSON_DEPTH) return { reversedPath: [], reason: `is nested more than ${MAX_JSON_DEPTH} levels deep` };
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const f = fault(v[i], depth + 1);
          if (f) {
            f.reversedPath.push(`[${i}]`);
            return f;
          }
        }
        return null;
      }
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        // Map, Date, Uint8Array...: they encode differently (or not at all) in JSON vs MessagePack.
        return { reversedPath: [], reason: `must be a plain object, not ${describe(v)}` };
      }
      const o = v as Record<string, unknown>;
      // for-in rather than Object.keys: no key array is allocated on the hot path.
      for (const k in o) {
        if (!Object.hasOwn(o, k)) continue;
        const f = fault(o[k], depth + 1);
        if (f) {
          f.reversedPath.push(/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`);
          return f;
        }
      }
      return null;
    }
    default:
      return {
        reversedPath: [],
        reason: `must be null, a boolean, a finite number, a string, an array or a plain object (got ${describe(v)})`,
      };
  }
}

/**
 * Returns null when `v` is JSON-like, else a sentence naming the offending part, e.g.
 * `args.value.items[2] must be a finite number (got NaN)`. `name` is the field's own path.
 */
export function jsonProblem(v: unknown, name: string): string | null {
  const f = fault(v, 0);
  if (!f) return null;
  return `${name}${f.reversedPath.reverse().join('')} ${f.reason}`;
}

/** True when `v` is JSON-like (see the module comment). */
export function isJsonValue(v: unknown): boolean {
  return fault(v, 0) === null;
}

/**
 * Deep equality over JSON-like values in which object key order does not matter (two
 * clients may build the same object in different orders). 0 and -0 are equal, as they
 * are once written as JSON. Behaviour on non-JSON-like values is unspecified.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const aIsArray = Array.isArray(a);
  if (aIsArray !== Array.isArray(b)) return false;
  if (aIsArray) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!jsonEqual(x[i], y[i])) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let count = 0;
  for (const k in x) {
    if (!Object.hasOwn(x, k)) continue;
    count++;
    if (!Object.hasOwn(y, k) || !jsonEqual(x[k], y[k])) return false;
  }
  // Every key of x is in y with an equal value; equal counts then mean y has no extra keys.
  for (const k in y) if (Object.hasOwn(y, k)) count--;
  return count === 0;
}
