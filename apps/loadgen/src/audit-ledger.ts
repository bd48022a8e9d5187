/**
 * The audit's memory on the sending side (one per engine thread): every update's
 * outcome is folded into per-asset tallies as its reply arrives, an update with no
 * known outcome (deadline passed, client closed) is kept to be retried with the same
 * id at the end, and every acked seq is marked in a bitmap of its shard's pair (two
 * updates acked with the same log position of one pair would be a double apply or a
 * forged reply). A small sample of acked updates is sent again at the end: the server
 * must answer with the original reply, field for field.
 *
 * Tallies, per asset:
 *   ok          updates acked ok (the asset's version must equal the sum over engines)
 *   rejected    REJECTED (processed, state unchanged)
 *   delta       account: credits minus debits of the ok ones (the balance)
 *   maxVersion  highest version in an ok ack, and `atMax` the state it reported
 *               (account: balance, register: value)
 * Orderbook, per book: each order's expected resting quantity: + what rested when
 * placed, - what later orders took from it (their trades), - what a cancel removed.
 */
import type { TxClient, UpdateInput, UpdateResult } from '@txtest/client';
import { TxError } from '@txtest/protocol';
import type { WorkloadName } from './args';

export interface AssetTally {
  ok: number;
  rejected: number;
  delta: number;
  maxVersion: number;
  atMax: unknown;
}

export interface LedgerPartial {
  workload: WorkloadName;
  tallies: Map<string, AssetTally>;
  /** Orderbook: book -> orderId -> expected resting qty (zero entries removed). */
  orders: Map<string, Map<string, number>>;
  /** By shard, bit n set: seq n of that shard's pair was acked (ok or REJECTED) to an update of this engine. */
  seqs: Uint8Array[];
  acked: number;
  /** Updates whose outcome was unknown at the end of the load and were retried. */
  retriedAtEnd: number;
  replayed: number;
  violations: string[];
}

const SAMPLE_MAX = 16;
/**
 * Records per block of the replay sample. The server remembers ids for at least the last
 * 1,000,000 records (or 10 minutes, if more; PROTOCOL.md section 3): an id older than that
 * may be applied again, rightly, so replays are drawn from the newest two blocks only. A
 * sample over a whole long run replayed ids tens of millions of records old, and the
 * audit took their second application for a double apply.
 */
const SAMPLE_BLOCK_SEQS = 500_000;
/** Rounds of retries (each up to the client's deadline) for an update with no known outcome. */
const RESOLVE_ROUNDS = 5;

type Trade = { buyOrderId: string; sellOrderId: string; qty: number };

type Acked = { u: UpdateInput; r: UpdateResult };

/** What the ledger keeps of one shard's pair, whose seqs are its own. */
class SeqTrack {
  seqs = new Uint8Array(1 << 12);
  /** Reservoir samples of acked updates: of the current seq block and of the one before. */
  sample: Acked[] = [];
  previous: Acked[] = [];
  sampleBlock = 0;
  sampleSeen = 0;
}

export class AuditLedger {
  private readonly tallies = new Map<string, AssetTally>();
  private readonly orders = new Map<string, Map<string, number>>();
  private readonly tracks: SeqTrack[] = [];
  private acked = 0;
  private readonly unresolved: UpdateInput[] = [];
  private retriedAtEnd = 0;
  private replayed = 0;
  private readonly violations: string[] = [];

  constructor(private readonly workload: WorkloadName) {}

  /** An acked outcome of `u` from the pair of shard `shard`. */
  result(u: UpdateInput, r: UpdateResult, shard: number): void {
    this.acked++;
    const track = (this.tracks[shard] ??= new SeqTrack());
    this.markSeq(track, shard, r.seq, u.id!);
    let t = this.tallies.get(u.asset);
    if (t === undefined) {
      t = { ok: 0, rejected: 0, delta: 0, maxVersion: 0, atMax: null };
      this.tallies.set(u.asset, t);
    }
    if (!r.ok) {
      t.rejected++;
    } else {
      t.ok++;
      const result = (r.result ?? {}) as Record<string, unknown>;
      if (this.workload === 'account') t.delta += u.op === 'credit' ? (u.args!.amount as number) : -(u.args!.amount as number);
      else if (this.workload === 'orderbook') this.bookResult(u, result);
      if (r.version > t.maxVersion) {
        t.maxVersion = r.version;
        t.atMax = this.workload === 'account' ? result.balance : this.workload === 'register' ? result.value : null;
      }
    }
    // Reservoir sample of acked updates, replayed at the end (see SAMPLE_BLOCK_SEQS).
    const block = Math.floor(r.seq / SAMPLE_BLOCK_SEQS);
    if (block > track.sampleBlock) {
      track.previous = block === track.sampleBlock + 1 ? track.sample : [];
      track.sample = [];
      track.sampleSeen = 0;
      track.sampleBlock = block;
    } else if (block < track.sampleBlock) return;
    const k = track.sampleSeen++;
    if (k < SAMPLE_MAX) track.sample.push({ u, r });
    else if (Math.random() * (k + 1) < SAMPLE_MAX) track.sample[Math.floor(Math.random() * SAMPLE_MAX)] = { u, r };
  }

  /** An update that ended without a committed outcome: remembered unless the refusal is definite. */
  failed(u: UpdateInput, err: unknown): void {
    const code = err instanceof TxError ? err.code : 'CLIENT_ERROR';
    // A definite refusal (validation, ID_CONFLICT, ...) applied nothing; everything else may have.
    if (code === 'TIMEOUT' || code === 'NOT_PRIMARY' || code === 'OVERLOADED' || code === 'CLIENT_ERROR') this.unresolved.push(u);
  }

  private bookResult(u: UpdateInput, result: Record<string, unknown>): void {
    let book = this.orders.get(u.asset);
    if (book === undefined) {
      book = new Map();
      this.orders.set(u.asset, book);
    }
    const add = (orderId: string, qty: number) => {
      const q = (book.get(orderId) ?? 0) + qty;
      if (q === 0) book.delete(orderId);
      else book.set(orderId, q);
    };
    const orderId = (u.args as { orderId: string }).orderId;
    if (typeof result?.remainingQty !== 'number' || (u.op === 'place' && !Array.isArray(result.trades))) {
      this.violations.push(`the ok reply to ${u.id} (${u.op} on ${u.asset}) is not a ${u.op} result: ${JSON.stringify(result).slice(0, 200)}`);
      return;
    }
    if (u.op === 'cancel') return add(orderId, -(result.remainingQty as number));
    const buy = (u.args as { side: string }).side === 'buy';
    for (const tr of result.trades as Trade[]) add(buy ? tr.sellOrderId : tr.buyOrderId, -tr.qty);
    if (result.status === 'resting' || result.status === 'partial') add(orderId, result.remainingQty as number);
  }

  private markSeq(t: SeqTrack, shard: number, seq: number, id: string): void {
    const byte = seq >>> 3;
    if (byte >= t.seqs.length) {
      const grown = new Uint8Array(Math.max(t.seqs.length * 2, byte + 1));
      grown.set(t.seqs);
      t.seqs = grown;
    }
    const bit = 1 << (seq & 7);
    if ((t.seqs[byte]! & bit) !== 0) this.violations.push(`seq ${seq} of shard ${shard} was acked to two different updates (the second: ${id})`);
    t.seqs[byte]! |= bit;
  }

  /**
   * Retries every update whose outcome is unknown, with its own id, until the server
   * answers (the first attempt's effect, if any, is deduplicated), then replays the
   * sample of acked updates and compares the replies.
   */
  async finish(client: TxClient): Promise<LedgerPartial> {
    const todo = this.unresolved.splice(0);
    this.retriedAtEnd = todo.length;
    await Promise.all(
      todo.map(async (u) => {
        for (let round = 1; ; round++) {
          try {
            this.result(u, await client.update(u), client.shardOf(u.asset));
            return;
          } catch (err) {
            const code = err instanceof TxError ? err.code : 'CLIENT_ERROR';
            if (code !== 'TIMEOUT' && code !== 'NOT_PRIMARY' && code !== 'OVERLOADED') return; // a definite refusal: not applied
            if (round >= RESOLVE_ROUNDS) {
              this.violations.push(`update ${u.id} (${u.op} on ${u.asset}) has no known outcome after ${round} rounds of retries: ${(err as Error).message}`);
              return;
            }
          }
        }
      }),
    );
    for (const { u, r } of this.tracks.flatMap((t) => [...t.previous, ...t.sample])) {
      this.replayed++;
      try {
        const again = await client.update(u);
        if (JSON.stringify(again) !== JSON.stringify(r))
          this.violations.push(`a retry of ${u.id} answered ${JSON.stringify(again)}, not the original ${JSON.stringify(r)}`);
      } catch (err) {
        this.violations.push(`a retry of acked update ${u.id} failed: ${(err as Error).message}`);
      }
    }
    return {
      workload: this.workload,
      tallies: this.tallies,
      orders: this.orders,
      seqs: this.tracks.map((t) => t.seqs),
      acked: this.acked,
      retriedAtEnd: this.retriedAtEnd,
      replayed: this.replayed,
      violations: this.violations,
    };
  }
}
