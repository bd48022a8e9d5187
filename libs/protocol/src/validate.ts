/**
 * Validation at the edge (PROTOCOL.md section 3): everything the node receives from a
 * client passes through here once; the inside then trusts what it gets. Each refusal
 * names the field at fault.
 */
import { errorReply, type ErrorReply } from './errors';
import { ASSET_CHARS_MAX, BATCH_ENTRIES_MAX, ID_BYTES_MAX, VALUE_DEPTH_MAX } from './limits';
import type { Args, QueryRequest, UpdateRequest } from './messages';

export type Parsed<T> = { ok: true; value: T } | { ok: false; reply: ErrorReply };

const ASSET_ID = /^[A-Za-z0-9._:-]+$/;
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export function isPlainMap(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function assetIdProblem(asset: unknown): string | null {
  if (typeof asset !== 'string') return 'asset must be a string';
  if (asset.length === 0 || asset.length > ASSET_CHARS_MAX) return `asset must be 1..${ASSET_CHARS_MAX} characters`;
  if (!ASSET_ID.test(asset)) return 'asset may only contain the characters A-Z a-z 0-9 . _ : -';
  return null;
}

export function idProblem(id: unknown): string | null {
  if (typeof id !== 'string') return 'id must be a string';
  if (id.length === 0) return 'id must not be empty';
  // UTF-8 takes at least one byte a UTF-16 unit and at most three: measure only when unsure.
  if (id.length > ID_BYTES_MAX || (id.length * 3 > ID_BYTES_MAX && utf8Length(id) > ID_BYTES_MAX)) {
    return `id must be at most ${ID_BYTES_MAX} bytes of UTF-8`;
  }
  return null;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Finds the first value that is not plain data (null, boolean, finite number, string,
 * array, plain map) within the depth limit, and returns its path, or null when all is
 * plain. Binary, dates, big integers and the like cannot round-trip through JSON, so
 * models never see them.
 */
export function nonPlainPath(v: unknown, path: string, depth = 0): string | null {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(v) ? null : path;
    case 'object': {
      if (v === null) return null;
      if (depth >= VALUE_DEPTH_MAX) return path;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const bad = nonPlainPath(v[i], `${path}[${i}]`, depth + 1);
          if (bad !== null) return bad;
        }
        return null;
      }
      if (!isPlainMap(v)) return path;
      for (const k in v) {
        const bad = nonPlainPath(v[k], `${path}.${k}`, depth + 1);
        if (bad !== null) return bad;
      }
      return null;
    }
    default:
      return path;
  }
}

/** Validates one update request's envelope. Args are checked for plainness here and by the model later. */
export function parseUpdate(v: unknown): Parsed<UpdateRequest> {
  if (!isPlainMap(v)) return bad('BAD_REQUEST', 'an update request must be a map');
  const id = v.id;
  const idBad = idProblem(id);
  if (idBad !== null) return bad('BAD_REQUEST', idBad);
  const sid = id as string;
  const assetBad = assetIdProblem(v.asset);
  if (assetBad !== null) return bad('BAD_REQUEST', assetBad, sid);
  const op = v.op;
  if (typeof op !== 'string' || !NAME.test(op)) return bad('BAD_REQUEST', 'op must be a name of 1..64 characters [A-Za-z0-9_.-]', sid);
  const model = v.model;
  if (model !== undefined && (typeof model !== 'string' || !NAME.test(model))) {
    return bad('BAD_REQUEST', 'model must be a name of 1..64 characters [A-Za-z0-9_.-]', sid);
  }
  const args = v.args;
  if (args !== undefined && args !== null) {
    if (!isPlainMap(args)) return bad('BAD_ARGS', 'args must be a map', sid);
    const badPath = nonPlainPath(args, 'args');
    if (badPath !== null) {
      return bad(
        'BAD_ARGS',
        `${badPath} is not plain data (only null, booleans, finite numbers, strings, arrays and maps, nested at most ${VALUE_DEPTH_MAX} deep)`,
        sid,
      );
    }
  }
  const req: UpdateRequest = { id: sid, asset: v.asset as string, op };
  if (args !== undefined && args !== null) req.args = args as Args;
  if (model !== undefined) req.model = model as string;
  return { ok: true, value: req };
}

/** A body is a batch when it is a map with a `batch` field. */
export function batchEntries(v: unknown): Parsed<unknown[]> | null {
  if (!isPlainMap(v) || !('batch' in v)) return null;
  const entries = v.batch;
  if (!Array.isArray(entries)) return bad('BAD_REQUEST', 'batch must be an array of update requests');
  if (entries.length === 0) return bad('BAD_REQUEST', 'batch must not be empty');
  if (entries.length > BATCH_ENTRIES_MAX) return bad('BAD_REQUEST', `batch has ${entries.length} entries, more than the limit of ${BATCH_ENTRIES_MAX}`);
  return { ok: true, value: entries };
}

export function parseQuery(v: unknown): Parsed<QueryRequest> {
  if (!isPlainMap(v)) return bad('BAD_REQUEST', 'a query must be a map with an asset field');
  const problem = assetIdProblem(v.asset);
  if (problem !== null) return bad('BAD_REQUEST', problem);
  return { ok: true, value: { asset: v.asset as string } };
}

function bad(code: 'BAD_REQUEST' | 'BAD_ARGS', message: string, id?: string): { ok: false; reply: ErrorReply } {
  return { ok: false, reply: errorReply(code, message, id) };
}
