/**
 * The audit's verdict (main thread): the engines' ledgers are added up, every asset
 * they touched is read back from the primary, and the states must be exactly what the
 * acknowledged updates add up to. Then the standby, once caught up, must report the
 * primary's digest (each shard's standby its own primary's). Each violation is one sentence naming the asset (or seq, or node)
 * and the expected and actual values; the first one is the run's failure message.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { TxClient } from '@txtest/client';
import type { NodeStatus } from '@txtest/protocol';
import type { WorkloadName } from './args';
import type { AssetTally, LedgerPartial } from './audit-ledger';
import { fetchStatus } from './primary-watch';

export interface AuditResult {
  clean: boolean;
  violations: string[];
  assetsChecked: number;
  acked: number;
  retriedAtEnd: number;
  replayed: number;
  /** The standby's digest against the primary's; with several shards, every pair's in one, and each in `shards`. */
  digest: {
    checked: boolean;
    equal: boolean | null;
    note: string;
    primary?: string;
    standby?: string;
    appliedSeq?: number;
    shards?: AuditResult['digest'][];
  };
}

const VIOLATIONS_KEPT = 100;

function merge(parts: LedgerPartial[]): { tallies: Map<string, AssetTally>; orders: Map<string, Map<string, number>>; violations: string[] } {
  const tallies = new Map<string, AssetTally>();
  const orders = new Map<string, Map<string, number>>();
  const violations: string[] = [];
  /** By shard: the seqs acked so far, over the engines merged. */
  const seen: Uint8Array[] = [];
  for (const p of parts) {
    violations.push(...p.violations);
    for (const [asset, t] of p.tallies) {
      const m = tallies.get(asset);
      if (m === undefined) tallies.set(asset, { ...t });
      else {
        m.ok += t.ok;
        m.rejected += t.rejected;
        m.delta += t.delta;
        if (t.maxVersion > m.maxVersion) {
          m.maxVersion = t.maxVersion;
          m.atMax = t.atMax;
        }
      }
    }
    for (const [book, os] of p.orders) {
      let m = orders.get(book);
      if (m === undefined) orders.set(book, (m = new Map()));
      for (const [id, q] of os) {
        const sum = (m.get(id) ?? 0) + q;
        if (sum === 0) m.delete(id);
        else m.set(id, sum);
      }
    }
    p.seqs.forEach((seqs, shard) => (seen[shard] = mergeSeqs(seen[shard] ?? new Uint8Array(0), seqs, shard, violations)));
  }
  return { tallies, orders, violations };
}

/** `seen` with the engine's `seqs` of one shard marked in; a seq both acked is a violation (each engine marked it in its own bitmap). */
function mergeSeqs(seen: Uint8Array, seqs: Uint8Array, shard: number, violations: string[]): Uint8Array {
  const n = Math.min(seen.length, seqs.length);
  for (let i = 0; i < n; i++) {
    const both = seen[i]! & seqs[i]!;
    if (both !== 0) violations.push(`seq ${i * 8 + Math.log2(both & -both)} of shard ${shard} was acked to updates of two different clients`);
  }
  let out = seen;
  if (seqs.length > seen.length) {
    out = new Uint8Array(seqs.length);
    out.set(seen);
  }
  for (let i = 0; i < seqs.length; i++) out[i]! |= seqs[i]!;
  return out;
}

type Book = { bids: { price: number; orders: { orderId: string; qty: number }[] }[]; asks: { price: number; orders: { orderId: string; qty: number }[] }[] };

function checkAsset(
  workload: WorkloadName,
  asset: string,
  t: AssetTally,
  q: { version: number; state: unknown } | null,
  expectedOrders: Map<string, number> | undefined,
): string[] {
  const out: string[] = [];
  const version = q?.version ?? 0;
  if (workload === 'account') {
    const balance = q === null ? 0 : (q.state as { balance: number }).balance;
    if (balance !== t.delta || version !== t.ok) {
      const what =
        version < t.ok
          ? `${t.ok - version} acked update(s) lost`
          : version > t.ok
            ? `${version - t.ok} update(s) applied that no ack accounts for (double apply?)`
            : 'balance differs';
      out.push(`account ${asset}: expected balance ${t.delta} version ${t.ok} from the acks, the primary has balance ${balance} version ${version} (${what})`);
    } else if (version > 0 && t.maxVersion === version && t.atMax !== balance) {
      out.push(`account ${asset}: the ack of version ${version} reported balance ${String(t.atMax)}, the primary has ${balance}`);
    }
    return out;
  }
  if (version !== t.ok) {
    out.push(
      `${workload} ${asset}: expected version ${t.ok} from ${t.ok} acked update(s), the primary has version ${version} (${version < t.ok ? `${t.ok - version} lost` : `${version - t.ok} unaccounted for`})`,
    );
    return out;
  }
  if (workload === 'register') {
    const value = q === null ? null : (q.state as { value: unknown }).value;
    if (t.maxVersion === version && version > 0 && JSON.stringify(t.atMax) !== JSON.stringify(value)) {
      out.push(`register ${asset}: the ack of version ${version} set value ${JSON.stringify(t.atMax)}, the primary has ${JSON.stringify(value)}`);
    }
    return out;
  }
  // orderbook: the resting orders must be exactly those the acks leave resting, with those quantities.
  const book = (q?.state ?? { bids: [], asks: [] }) as Book;
  const got = new Map<string, number>();
  for (const side of [book.bids, book.asks]) for (const level of side) for (const o of level.orders) got.set(o.orderId, o.qty);
  const want = expectedOrders ?? new Map<string, number>();
  for (const [id, qty] of want) {
    const g = got.get(id);
    if (g !== qty)
      out.push(`orderbook ${asset}: order ${id} should rest with qty ${qty} by the acks, the primary has ${g === undefined ? 'no such order' : `qty ${g}`}`);
  }
  for (const [id, qty] of got) if (!want.has(id)) out.push(`orderbook ${asset}: order ${id} rests with qty ${qty}, but the acks leave nothing of it`);
  const bestBid = book.bids[0]?.price;
  const bestAsk = book.asks[0]?.price;
  if (bestBid !== undefined && bestAsk !== undefined && bestBid >= bestAsk)
    out.push(`orderbook ${asset}: the book is crossed (best bid ${bestBid} >= best ask ${bestAsk})`);
  return out;
}

type DigestCheck = AuditResult['digest'];

/** One pair's verdict from one round of statuses (its nodes only), or null while its standby has not caught up. */
function judgePair(st: readonly (NodeStatus | null)[], names: readonly string[]): DigestCheck | null {
  const primary = st.find((s) => s !== null && (s.role === 'primary' || s.role === 'solo')) ?? null;
  const standby = st.find((s) => s !== null && s.role === 'standby') ?? null;
  const joining = st.some((s) => s !== null && ['starting', 'recovering', 'negotiating', 'syncing'].includes(s.role));
  if (primary !== null && standby === null && primary.role === 'solo' && !joining) {
    return { checked: false, equal: null, note: `${primary.nodeId} serves without a standby: no digest to compare`, primary: primary.nodeId };
  }
  if (primary === null || standby === null || primary.appliedSeq !== standby.appliedSeq) return null;
  const equal = primary.digest === standby.digest;
  return {
    checked: true,
    equal,
    note: equal
      ? `standby ${standby.nodeId} equals primary ${primary.nodeId} at seq ${primary.appliedSeq}`
      : `digests differ at seq ${primary.appliedSeq}: ${progressOf(st, names)}`,
    primary: primary.nodeId,
    standby: standby.nodeId,
    appliedSeq: primary.appliedSeq!,
  };
}

/** What a pair's nodes show this round, for a note. */
function progressOf(st: readonly (NodeStatus | null)[], names: readonly string[]): string {
  return st
    .map((s, i) => (s === null ? `${names[i]}: no answer` : `${s.nodeId} ${s.role} applied seq ${s.appliedSeq} (digest ${s.digest?.slice(0, 12)})`))
    .join(', ');
}

/**
 * Waits until each shard's standby has applied what its primary has, then compares their
 * digests. A node belongs to the shard its status reports; with one shard the result is
 * that pair's, with several it is all of theirs in one (`shards` has each).
 */
async function checkDigests(nc: NatsConnection, o: DigestTarget, timeoutMs: number): Promise<DigestCheck> {
  const deadline = performance.now() + timeoutMs;
  const done = new Map<number, DigestCheck>();
  for (;;) {
    // A digest over a million assets is taken a slice at a time and takes seconds: each
    // status request may use what is left of the deadline.
    const wait = Math.max(2000, deadline - performance.now());
    const st = await Promise.all(o.nodes.map((n) => fetchStatus(nc, o.prefix, o.cluster, n, true, wait)));
    if (st.every((s) => s === null))
      return { checked: false, equal: null, note: `no node of ${o.nodes.join(', ')} answers status: digest check skipped (pass --nodes)` };
    const late = performance.now() > deadline;
    for (let shard = 0; shard < o.shards; shard++) {
      if (done.has(shard)) continue;
      const mine = o.nodes.map((n, i) => [n, st[i]!] as const).filter(([, s]) => s === null || (s.shard ?? 0) === shard);
      const verdict = judgePair(
        mine.map(([, s]) => s),
        mine.map(([n]) => n),
      );
      if (verdict !== null) done.set(shard, verdict);
      else if (late) {
        const seen = mine.filter(([, s]) => s !== null);
        const note =
          seen.length === 0
            ? 'no node of this shard answers'
            : `the standby did not reach the primary's seq within ${timeoutMs} ms (${progressOf(
                seen.map(([, s]) => s),
                seen.map(([n]) => n),
              )})`;
        done.set(shard, { checked: true, equal: false, note });
      }
    }
    if (done.size === o.shards) return combine(done);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function combine(done: Map<number, DigestCheck>): DigestCheck {
  if (done.size === 1) return done.get(0)!;
  const all = [...done.entries()].sort(([a], [b]) => a - b);
  const checked = all.some(([, d]) => d.checked);
  const equal = checked ? all.every(([, d]) => !d.checked || d.equal === true) : null;
  return { checked, equal, note: all.map(([k, d]) => `shard ${k}: ${d.note}`).join('; '), shards: all.map(([, d]) => d) };
}

interface DigestTarget {
  prefix: string;
  cluster: string;
  nodes: readonly string[];
  shards: number;
}

export async function runAudit(
  parts: LedgerPartial[],
  workload: WorkloadName,
  client: TxClient,
  nc: NatsConnection,
  o: DigestTarget & { digestTimeoutMs?: number },
): Promise<AuditResult> {
  const merged = merge(parts);
  const { tallies, orders } = merged;
  // State mismatches first: they name the asset with expected and actual values.
  const violations: string[] = [];
  const assets = [...tallies.keys()];
  // Reads in parallel, a bounded number at a time.
  const CONCURRENCY = 256;
  for (let i = 0; i < assets.length; i += CONCURRENCY) {
    const chunk = assets.slice(i, i + CONCURRENCY);
    const replies = await Promise.all(chunk.map((a) => client.query(a)));
    for (let j = 0; j < chunk.length; j++) {
      const asset = chunk[j]!;
      violations.push(...checkAsset(workload, asset, tallies.get(asset)!, replies[j]!, orders.get(asset)));
      if (violations.length > VIOLATIONS_KEPT) break;
    }
  }
  violations.push(...merged.violations);
  const digest = await checkDigests(nc, o, o.digestTimeoutMs ?? 15_000);
  if (digest.checked && digest.equal === false) violations.push(`standby digest check failed: ${digest.note}`);
  return {
    clean: violations.length === 0,
    violations: violations.slice(0, VIOLATIONS_KEPT),
    assetsChecked: assets.length,
    acked: parts.reduce((n, p) => n + p.acked, 0),
    retriedAtEnd: parts.reduce((n, p) => n + p.retriedAtEnd, 0),
    replayed: parts.reduce((n, p) => n + p.replayed, 0),
    digest,
  };
}
