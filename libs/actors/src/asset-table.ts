/**
 * The node's actors by asset id: a Map split into 256 by a hash of the id. One Map of a
 * million entries rehashes all of them at once when it doubles (about 60 ms on this
 * machine at 1,048,576 entries, an event-loop stall); each shard here grows on its own,
 * 1/256 of that at a time.
 */
import type { AssetActor } from './asset-actor';
import { hashId } from './id-index';

const SHARD_BITS = 8;

export class AssetTable {
  private shards: Map<string, AssetActor>[] = AssetTable.empty();
  private count = 0;

  private static empty(): Map<string, AssetActor>[] {
    return Array.from({ length: 1 << SHARD_BITS }, () => new Map<string, AssetActor>());
  }

  get size(): number {
    return this.count;
  }

  get(asset: string): AssetActor | undefined {
    return this.shards[hashId(asset) >>> (32 - SHARD_BITS)]!.get(asset);
  }

  /** Adds a new actor (the caller knows its asset is not in the table). */
  add(actor: AssetActor): void {
    this.shards[hashId(actor.asset) >>> (32 - SHARD_BITS)]!.set(actor.asset, actor);
    this.count++;
  }

  /**
   * Every actor, shard by shard. Live, like a Map's iterator: an actor added to a shard
   * not yet reached is visited too (a snapshot walk skips those by their kept view).
   */
  *values(): IterableIterator<AssetActor> {
    for (const shard of this.shards) yield* shard.values();
  }

  clear(): void {
    this.shards = AssetTable.empty();
    this.count = 0;
  }
}
