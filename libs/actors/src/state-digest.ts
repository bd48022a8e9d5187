/**
 * The state digest two nodes compare: a hash over every asset's id, model, version and
 * committed state. Each asset's line is hashed on its own and the hashes are combined
 * by XOR (then hashed once more with the count), so the result does not depend on the
 * order assets are visited in: no sort of a million ids, and the digest can be taken a
 * slice at a time from a SnapshotWalk while the node keeps serving.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '@txtest/protocol';
import type { SnapshotAsset } from './snapshot-walk';

export class StateDigest {
  private readonly acc = new Int32Array(8);
  private count = 0;

  add(assets: readonly SnapshotAsset[]): void {
    const acc = this.acc;
    for (const [id, model, version, , state] of assets) {
      const h = createHash('sha256')
        .update(`${id}\u0000${model}\u0000${version}\u0000${canonicalJson(state)}\n`)
        .digest();
      for (let i = 0; i < 8; i++) acc[i]! ^= h.readInt32LE(4 * i);
      this.count++;
    }
  }

  hex(): string {
    return createHash('sha256').update(new Uint8Array(this.acc.buffer)).update(String(this.count)).digest('hex');
  }
}
