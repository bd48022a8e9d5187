/**
 * Shards (PROTOCOL.md section 12, docs/SHARDING.md): a deployment of S pairs, each owning
 * the assets whose `fnv1a32(utf8(assetId)) mod S` is its index. Nodes, clients, the
 * loadgen and the operator tools all route by this one function.
 */

/** The most shards a cluster may have: every one is a pair of processes, and a subject token. */
export const SHARDS_MAX = 1024;

const encoder = new TextEncoder();

/** The 32-bit FNV-1a hash of the string's UTF-8 bytes (offset basis 2166136261, prime 16777619), unsigned. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // ASCII is its own UTF-8: the common asset id hashes without an encoding.
    if (c >= 0x80) return fnv1a32Bytes(encoder.encode(s));
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}

function fnv1a32Bytes(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

/** The shard that owns `asset` in a cluster of `shards` (0 when there is one). */
export function shardOf(asset: string, shards: number): number {
  return shards === 1 ? 0 : fnv1a32(asset) % shards;
}

/** Which shard a node is, of how many. `{ index: 0, count: 1 }` is the unsharded cluster. */
export interface ShardSpec {
  readonly index: number;
  readonly count: number;
}

export const UNSHARDED: ShardSpec = Object.freeze({ index: 0, count: 1 });

/** Null when `count` and `index` form a valid shard, else the sentence saying why not. */
export function shardSpecProblem(s: ShardSpec): string | null {
  if (!Number.isInteger(s.count) || s.count < 1 || s.count > SHARDS_MAX) return `shards must be a whole number from 1 to ${SHARDS_MAX}, not ${s.count}`;
  if (!Number.isInteger(s.index) || s.index < 0 || s.index >= s.count)
    return `shard must be a whole number from 0 to ${s.count - 1} (there are ${s.count} shards), not ${s.index}`;
  return null;
}

/**
 * The node ids the project's tools assume when not told otherwise (`nx serve node`, the
 * loadgen's `--nodes`, `txtest-admin status`, the tests): `n1`, `n2` for one shard, and
 * `s<k>-n1`, `s<k>-n2` for shard k of several.
 */
export function defaultPairIds(shard: ShardSpec = UNSHARDED): [string, string] {
  return shard.count === 1 ? ['n1', 'n2'] : [`s${shard.index}-n1`, `s${shard.index}-n2`];
}

/** Every default node id of a cluster of `shards`, shard by shard. */
export function defaultNodeIds(shards: number): string[] {
  return Array.from({ length: shards }, (_, index) => defaultPairIds({ index, count: shards })).flat();
}
