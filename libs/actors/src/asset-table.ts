/**
 * The node's actors by asset id: open addressing with linear probing over a typed
 * array of hashes and an array of actors, split into 256 shards by the hash's top bits
 * (as the dedupe index, id-index.ts).
 *
 * Why not a Map: a lookup hashed the id twice (the shard's hash here, then V8's own of a
 * string fresh off the wire) and walked a chained bucket; here one hash and, almost
 * always, one compare. And a Map holds about 37 bytes per entry (three words per entry
 * plus its buckets, three-quarters full on average) where a slot here is 12 bytes at a
 * load between 0.375 and 0.75: some 16 MB less at a million assets. Shards grow one at a
 * time, so the table never rehashes a million entries in one go (about 60 ms, an
 * event-loop stall); actors are never removed one by one (only all at once), so there
 * are no deletions to handle.
 */
import type { AssetActor } from './asset-actor';
import { hashId } from './id-index';

const SHARD_BITS = 8;
const SHARDS = 1 << SHARD_BITS;
const LOAD_MAX = 0.75;
const SHARD_CAPACITY_MIN = 16;

class Shard {
  mask = SHARD_CAPACITY_MIN - 1;
  hashes = new Int32Array(SHARD_CAPACITY_MIN);
  actors: (AssetActor | undefined)[] = new Array<AssetActor | undefined>(SHARD_CAPACITY_MIN).fill(undefined);
  size = 0;

  find(asset: string, h: number): AssetActor | undefined {
    const { hashes, actors, mask } = this;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const hi = hashes[i]!;
      if (hi === 0) return undefined;
      if (hi === h) {
        const a = actors[i]!;
        if (a.asset === asset) return a;
      }
    }
  }

  add(actor: AssetActor, h: number): void {
    if (this.size + 1 > LOAD_MAX * (this.mask + 1)) this.grow();
    this.place(actor, h);
    this.size++;
  }

  private place(actor: AssetActor, h: number): void {
    const { hashes, mask } = this;
    let i = h & mask;
    while (hashes[i] !== 0) i = (i + 1) & mask;
    hashes[i] = h;
    this.actors[i] = actor;
  }

  /**
   * Doubles the shard into new arrays; the old ones are left as they were, so an
   * iterator already inside them (a snapshot walk) still sees every actor they held.
   */
  private grow(): void {
    const { hashes, actors } = this;
    const capacity = 2 * (this.mask + 1);
    this.mask = capacity - 1;
    this.hashes = new Int32Array(capacity);
    this.actors = new Array<AssetActor | undefined>(capacity).fill(undefined);
    for (let i = 0; i < hashes.length; i++) if (hashes[i] !== 0) this.place(actors[i]!, hashes[i]!);
  }
}

export class AssetTable {
  private shards: Shard[] = AssetTable.empty();
  private count = 0;

  private static empty(): Shard[] {
    return Array.from({ length: SHARDS }, () => new Shard());
  }

  get size(): number {
    return this.count;
  }

  get(asset: string): AssetActor | undefined {
    const h = hashId(asset);
    return this.shards[h >>> (32 - SHARD_BITS)]!.find(asset, h);
  }

  /** Adds a new actor (the caller knows its asset is not in the table). */
  add(actor: AssetActor): void {
    const h = hashId(actor.asset);
    this.shards[h >>> (32 - SHARD_BITS)]!.add(actor, h);
    this.count++;
  }

  /**
   * Every actor, shard by shard. Live enough for a snapshot walk: each actor present
   * when the iteration began is visited exactly once (a shard that grows meanwhile is
   * read on in the arrays the iterator was in); an actor added later may or may not
   * be, and a walk skips those by their kept view.
   */
  *values(): IterableIterator<AssetActor> {
    for (const shard of this.shards) {
      const actors = shard.actors;
      for (let i = 0; i < actors.length; i++) {
        const a = actors[i];
        if (a !== undefined) yield a;
      }
    }
  }

  clear(): void {
    this.shards = AssetTable.empty();
    this.count = 0;
  }
}
