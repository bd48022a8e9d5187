/**
 * The dedupe table's index from request id to entry: open addressing with linear
 * probing over a typed array of hashes and a parallel array of entries, split into 256
 * shards by the hash's top bits.
 *
 * Why not a Map: with a million string keys and one insert and one delete per update,
 * V8's Map costs about 4 µs per update here (chained buckets scattered over the heap,
 * periodic rehashing of the deleted slots), this about 1.5 µs. The hash is computed
 * once per request and kept in the entry, so eviction does not hash again; deletion
 * shifts the following run back (no tombstones), so probes stay short under churn.
 * Shards grow one at a time (1/256 of the table per rehash), so growing a
 * five-million-entry table never stalls the event loop for long.
 */
export interface Keyed {
  readonly id: string;
  /** `hashId(id)`, kept by the caller. */
  readonly hash: number;
}

const SHARD_BITS = 8;
const SHARDS = 1 << SHARD_BITS;
const LOAD_MAX = 0.6;
const SHARD_CAPACITY_MIN = 16;

/** FNV-1a over the UTF-16 units; never 0, which marks an empty slot. */
export function hashId(id: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h === 0 ? 1 : h;
}

/**
 * Holes read as undefined, and `new Array(n)` is allocated without a fill pass; it stays a
 * fast (holey) array while n is at most 64 Ki elements, which the shard count keeps
 * true up to ten million entries (beyond, V8 makes it a slower dictionary array).
 */
function emptySlots<V>(n: number): (V | undefined)[] {
  return new Array<V | undefined>(n);
}

class Shard<V extends Keyed> {
  private mask: number;
  private hashes: Int32Array;
  private vals: (V | undefined)[];
  size = 0;

  constructor(capacity: number) {
    this.mask = capacity - 1;
    this.hashes = new Int32Array(capacity);
    this.vals = emptySlots<V>(capacity);
  }

  get(id: string, h: number): V | undefined {
    const { hashes, vals, mask } = this;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = vals[i];
      if (v === undefined) return undefined;
      if (hashes[i] === h && v.id === id) return v;
    }
  }

  /** Inserts v, or replaces the entry with the same id. */
  set(v: V): void {
    const h = v.hash;
    const { hashes, vals, mask } = this;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const old = vals[i];
      if (old === undefined) break;
      if (hashes[i] === h && old.id === v.id) {
        vals[i] = v;
        return;
      }
    }
    hashes[i] = h;
    vals[i] = v;
    if (++this.size > LOAD_MAX * (mask + 1)) this.grow();
  }

  /** Removes v itself (not a newer entry that replaced it under the same id). */
  delete(v: V): boolean {
    const h = v.hash;
    const { hashes, vals, mask } = this;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const cur = vals[i];
      if (cur === undefined) return false;
      if (cur === v) break;
    }
    // Backward-shift deletion: move later members of the probe run into the hole when
    // their home slot is not between the hole and where they sit.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const next = vals[j];
      if (next === undefined) break;
      const home = hashes[j]! & mask;
      const between = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!between) {
        hashes[i] = hashes[j]!;
        vals[i] = next;
        i = j;
      }
    }
    vals[i] = undefined;
    hashes[i] = 0;
    this.size--;
    return true;
  }

  values(out: V[]): void {
    for (const v of this.vals) if (v !== undefined) out.push(v);
  }

  private grow(): void {
    const old = this.vals;
    this.mask = old.length * 2 - 1;
    this.hashes = new Int32Array(old.length * 2);
    this.vals = emptySlots<V>(old.length * 2);
    this.size = 0;
    for (const v of old) if (v !== undefined) this.set(v);
  }
}

export class IdIndex<V extends Keyed> {
  /** Small to start (a simulator builds thousands of nodes); each shard doubles on its own. */
  private readonly shards: Shard<V>[] = Array.from({ length: SHARDS }, () => new Shard<V>(SHARD_CAPACITY_MIN));

  private shard(h: number): Shard<V> {
    return this.shards[h >>> (32 - SHARD_BITS)]!;
  }

  get size(): number {
    let n = 0;
    for (const s of this.shards) n += s.size;
    return n;
  }

  get(id: string, h: number): V | undefined {
    return this.shard(h).get(id, h);
  }

  set(v: V): void {
    this.shard(v.hash).set(v);
  }

  delete(v: V): boolean {
    return this.shard(v.hash).delete(v);
  }

  /** Every entry (order unspecified); for rare whole-table passes. */
  values(): V[] {
    const out: V[] = [];
    for (const s of this.shards) s.values(out);
    return out;
  }

  clear(): void {
    for (let i = 0; i < SHARDS; i++) this.shards[i] = new Shard<V>(SHARD_CAPACITY_MIN);
  }
}
