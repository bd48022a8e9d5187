/**
 * The audit's verdict (main thread): the engines' ledgers are added up, every asset
 * they touched is read back from the primary, and the states must be exactly what the
 * acknowledged updates add up to. Then the standby, once caught up, must report the
 * primary's digest. Each violation is one sentence naming the asset (or seq, or node)
 * and the expected and actual values; the first one is the run's failure message.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { TxClient } from '@txtest/client';
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
  digest: { checked: boolean; equal: boolean | null; note: string; primary?: string; standby?: string; appliedSeq?: number };
}

const VIOLATIONS_KEPT = 100;

function merge(parts: LedgerPartial[]): { tallies: Map<string, AssetTally>; orders: Map<string, Map<string, number>>; violations: string[] } {
  const tallies = new Map<string, AssetTally>();
  const orders = new Map<string, Map<string, number>>();
  const violations: string[] = [];
  let seen = new Uint8Array(0);
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
    // Two engines acked the same seq: each marked it in its own bitmap.
    const n = Math.min(seen.length, p.seqs.length);
    for (let i = 0; i < n; i++) {
      const both = seen[i]! & p.seqs[i]!;
      if (both !== 0) violations.push(`seq ${i * 8 + Math.log2(both & -both)} was acked to updates of two different clients`);
    }
    if (p.seqs.length > seen.length) {
      const grown = new Uint8Array(p.seqs.length);
      grown.set(seen);
      seen = grown;
    }
    for (let i = 0; i < p.seqs.length; i++) seen[i]! |= p.seqs[i]!;
  }
  return { tallies, orders, violations };
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

/** Waits until a standby has applied what the primary has, then compares their digests. */
async function checkDigest(nc: NatsConnection, prefix: string, cluster: string, nodes: readonly string[], timeoutMs: number): Promise<AuditResult['digest']> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    // A digest over a million assets is taken a slice at a time and takes seconds: each
    // status request may use what is left of the deadline.
    const wait = Math.max(2000, deadline - performance.now());
    const st = await Promise.all(nodes.map((n) => fetchStatus(nc, prefix, cluster, n, true, wait)));
    const primary = st.find((s) => s !== null && (s.role === 'primary' || s.role === 'solo')) ?? null;
    const standby = st.find((s) => s !== null && s.role === 'standby') ?? null;
    if (primary === null && st.every((s) => s === null))
      return { checked: false, equal: null, note: `no node of ${nodes.join(', ')} answers status: digest check skipped (pass --nodes)` };
    const joining = st.some((s) => s !== null && ['starting', 'recovering', 'negotiating', 'syncing'].includes(s.role));
    if (primary !== null && standby === null && primary.role === 'solo' && !joining) {
      return { checked: false, equal: null, note: `${primary.nodeId} serves without a standby: no digest to compare`, primary: primary.nodeId };
    }
    let last: string; // what the nodes show this round, for the note if the deadline passes
    if (primary !== null && standby !== null) {
      last = `${primary.nodeId} applied seq ${primary.appliedSeq} (digest ${primary.digest?.slice(0, 12)}), ${standby.nodeId} applied seq ${standby.appliedSeq} (digest ${standby.digest?.slice(0, 12)})`;
      if (primary.appliedSeq === standby.appliedSeq) {
        const equal = primary.digest === standby.digest;
        return {
          checked: true,
          equal,
          note: equal
            ? `standby ${standby.nodeId} equals primary ${primary.nodeId} at seq ${primary.appliedSeq}`
            : `digests differ at seq ${primary.appliedSeq}: ${last}`,
          primary: primary.nodeId,
          standby: standby.nodeId,
          appliedSeq: primary.appliedSeq!,
        };
      }
    } else {
      last = st.map((s, i) => `${nodes[i]}: ${s === null ? 'no answer' : s.role}`).join(', ');
    }
    if (performance.now() > deadline)
      return { checked: true, equal: false, note: `the standby did not reach the primary's seq within ${timeoutMs} ms (${last})` };
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function runAudit(
  parts: LedgerPartial[],
  workload: WorkloadName,
  client: TxClient,
  nc: NatsConnection,
  o: { prefix: string; cluster: string; nodes: readonly string[]; digestTimeoutMs?: number },
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
  const digest = await checkDigest(nc, o.prefix, o.cluster, o.nodes, o.digestTimeoutMs ?? 15_000);
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
