/**
 * The dedupe table's index from request id to the entry's position in its ring (see
 * DedupeRing): open addressing with linear probing over typed arrays of hashes and
 * positions, split into 256 shards by the hash's top bits. The ids themselves live in
 * the ring; `idIs(position, id)` confirms a hash match against the row there.
 *
 * Why not a Map: with a million string keys and one insert and one delete per update,
 * V8's Map costs about 4 µs per update here (chained buckets scattered over the heap,
 * periodic rehashing of the deleted slots), this about 1.5 µs; and its million entries
 * are objects the garbage collector visits on every full mark, where these are two
 * typed arrays per shard. Deletion shifts the following run back (no tombstones), so
 * probes stay short under churn. Shards grow one at a time (1/256 of the table per
 * rehash), so growing a five-million-entry table never stalls the event loop for long.
 *
 * Positions are absolute (they only grow), but every indexed one lies in the ring's
 * live span [head, tail), far shorter than 2^32: so each is kept as its low 32 bits and
 * read back relative to the head (`base`), 4 bytes a slot instead of 8 (8 MB at a
 * million ids).
 */
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
 * `hashId` of the string whose UTF-8 bytes are buf[from, to), computed on the bytes when
 * they are ASCII (byte = UTF-16 unit); 0 (never a hash) when they are not.
 */
export function hashAscii(buf: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if (c >= 0x80) return 0;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h === 0 ? 1 : h;
}

/** Whether the entry at a ring position has the given id (a string, or the id at another position). */
type IdIs<K> = (pos: number, key: K) => boolean;

/** The absolute position whose low 32 bits are `low`, at or after `base` (within 2^32 of it). */
function absolute(low: number, base: number): number {
  return base + ((low - (base >>> 0)) >>> 0);
}

class Shard {
  private mask: number;
  private hashes: Int32Array;
  /** Ring positions, their low 32 bits (see `absolute`). */
  private positions: Uint32Array;
  size = 0;

  constructor(capacity: number) {
    this.mask = capacity - 1;
    this.hashes = new Int32Array(capacity);
    this.positions = new Uint32Array(capacity);
  }

  find(id: string, h: number, idIs: IdIs<string>, base: number): number {
    const { hashes, positions, mask } = this;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const hi = hashes[i]!;
      if (hi === 0) return -1;
      if (hi === h) {
        const pos = absolute(positions[i]!, base);
        if (idIs(pos, id)) return pos;
      }
    }
  }

  /** Inserts `pos` under `key`, or moves the key's id to `pos` if it is indexed already. */
  set<K>(key: K, h: number, pos: number, idIs: IdIs<K>, base: number): void {
    const { hashes, positions, mask } = this;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const hi = hashes[i]!;
      if (hi === 0) break;
      if (hi === h && idIs(absolute(positions[i]!, base), key)) {
        positions[i] = pos >>> 0;
        return;
      }
    }
    hashes[i] = h;
    positions[i] = pos >>> 0;
    if (++this.size > LOAD_MAX * (mask + 1)) this.grow();
  }

  /** Removes `pos` itself (not a newer position the same id moved to). */
  delete(h: number, pos: number): boolean {
    const { hashes, positions, mask } = this;
    // Two live positions never share their low 32 bits: the low bits identify `pos`.
    const low = pos >>> 0;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const hi = hashes[i]!;
      if (hi === 0) return false;
      if (hi === h && positions[i] === low) break;
    }
    // Backward-shift deletion: move later members of the probe run into the hole when
    // their home slot is not between the hole and where they sit.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const hj = hashes[j]!;
      if (hj === 0) break;
      const home = hj & mask;
      const between = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!between) {
        hashes[i] = hj;
        positions[i] = positions[j]!;
        i = j;
      }
    }
    hashes[i] = 0;
    this.size--;
    return true;
  }

  private grow(): void {
    const oldHashes = this.hashes;
    const oldPositions = this.positions;
    const capacity = oldHashes.length * 2;
    this.mask = capacity - 1;
    this.hashes = new Int32Array(capacity);
    this.positions = new Uint32Array(capacity);
    const { hashes, positions, mask } = this;
    for (let k = 0; k < oldHashes.length; k++) {
      const h = oldHashes[k]!;
      if (h === 0) continue;
      // Positions are unique, so a plain probe for a free slot suffices.
      let i = h & mask;
      while (hashes[i] !== 0) i = (i + 1) & mask;
      hashes[i] = h;
      positions[i] = oldPositions[k]!;
    }
  }
}

export class IdIndex {
  /** Small to start (a simulator builds thousands of nodes); each shard doubles on its own. */
  private shards: Shard[] = IdIndex.empty();

  constructor(
    private readonly idIs: IdIs<string>,
    /** Whether two ring positions hold the same id. */
    private readonly samePos: IdIs<number>,
    /** The ring's head: every indexed position is at or after it. */
    private readonly base: () => number,
  ) {}

  private static empty(expected = 0): Shard[] {
    let capacity = SHARD_CAPACITY_MIN;
    while (capacity * LOAD_MAX < expected / SHARDS) capacity *= 2;
    return Array.from({ length: SHARDS }, () => new Shard(capacity));
  }

  private shard(h: number): Shard {
    return this.shards[h >>> (32 - SHARD_BITS)]!;
  }

  get size(): number {
    let n = 0;
    for (const s of this.shards) n += s.size;
    return n;
  }

  /** The position of `id` (whose hash is `h`), or -1. */
  find(id: string, h: number): number {
    return this.shard(h).find(id, h, this.idIs, this.base());
  }

  set(id: string, h: number, pos: number): void {
    this.shard(h).set(id, h, pos, this.idIs, this.base());
  }

  /** `set` for an id already in the ring at `pos` (compared there, not as a string). */
  setAt(h: number, pos: number): void {
    this.shard(h).set(pos, h, pos, this.samePos, this.base());
  }

  delete(h: number, pos: number): boolean {
    return this.shard(h).delete(h, pos);
  }

  /** Forgets every id; sized for `expected` of them (a snapshot's count), so a load rehashes nothing. */
  clear(expected = 0): void {
    this.shards = IdIndex.empty(expected);
  }
}
