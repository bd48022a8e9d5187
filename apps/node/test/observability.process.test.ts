/**
 * Observability of one real node (standalone, on a real nats-server): /metrics parsed
 * by a strict Prometheus text parser, with counters that move under load; the live
 * stream on /events; CORS on every GET; the page and its diagram; pino lines bound to
 * {node, epoch, role}.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TxClient } from '@txtest/client';
import { startNatsServer, startNode, type NatsServerHandle, type NodeProcess } from '@txtest/testkit';
import { allStateIds, roleGraph } from '../src/diagram/role-graph';
import { parsePromText, valueOf } from './helpers/prom-text';

let nats: NatsServerHandle;
let node: NodeProcess & { http: string };
let nc: NatsConnection;
let dir: string;

beforeAll(async () => {
  nats = await startNatsServer();
  dir = mkdtempSync(join(tmpdir(), 'txtest-obs-'));
  node = await startNode(['--id', 'm1', '--standalone', '--nats', nats.url, '--data-dir', join(dir, 'm1'), '--http', '0']);
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
});

afterAll(async () => {
  await nc?.close();
  node?.kill('SIGKILL');
  await node?.exited;
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function scrape() {
  const res = await fetch(`http://${node.http}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePromText(await res.text());
}

/** Reads SSE frames from /events until `enough` says stop; returns them parsed. */
async function readEvents(enough: (events: { event: string; data: unknown }[]) => boolean) {
  const ac = new AbortController();
  const res = await fetch(`http://${node.http}/events`, { signal: ac.signal });
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  expect(res.headers.get('access-control-allow-origin')).toBe('*');
  const events: { event: string; data: unknown }[] = [];
  const decoder = new TextDecoder();
  let buf = '';
  const reader = res.body!.getReader();
  try {
    while (!enough(events)) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the event stream ended');
      buf += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
      }
    }
  } finally {
    ac.abort();
  }
  return events;
}

describe('observability: metrics, live stream, page and logs of a real node', () => {
  it('/metrics is valid Prometheus text and its counters move under load', async () => {
    const before = await scrape();
    expect(valueOf(before, 'txtest_role', { role: 'solo' })).toBe(1);
    expect(valueOf(before, 'txtest_role', { role: 'primary' })).toBe(0);
    expect(valueOf(before, 'txtest_epoch')).toBeGreaterThanOrEqual(1);
    // Solo: no replication stream and no peer, so those series are absent (never NaN).
    expect(() => valueOf(before, 'txtest_replication_lag_seq', { side: 'primary' })).toThrow(/no series/);
    expect(before.get('txtest_peer_silence_seconds')?.samples).toEqual([]);
    for (const name of ['txtest_failovers_total', 'txtest_mailbox_depth_max', 'txtest_inflight_updates', 'txtest_log_synced_seq', 'txtest_peer_connected']) {
      expect(() => valueOf(before, name), name).not.toThrow();
    }
    // The stall gauges exist from the start; standalone there are no heartbeats to be late.
    expect(valueOf(before, 'txtest_event_loop_stall_max_seconds')).toBeGreaterThanOrEqual(0);
    expect(valueOf(before, 'txtest_event_loop_stall_peak_seconds')).toBeGreaterThanOrEqual(valueOf(before, 'txtest_event_loop_stall_max_seconds'));
    expect(before.get('txtest_heartbeat_late_max_seconds')?.samples).toEqual([]);
    const committed0 = valueOf(before, 'txtest_updates_committed_total');
    const requests0 = valueOf(before, 'txtest_request_duration_seconds_count', { kind: 'tx' });
    const bytes0 = valueOf(before, 'txtest_log_bytes_written_total');

    const client = new TxClient(nc, { attemptTimeoutMs: 2000, deadlineMs: 20_000 });
    const n = 300;
    const replies = await Promise.all(
      Array.from({ length: n }, (_, i) => client.update({ asset: `acct-${i % 17}`, op: 'credit', args: { amount: 1 }, model: 'account' })),
    );
    expect(replies.every((r) => r.ok)).toBe(true);
    const lastSeq = Math.max(...replies.map((r) => r.seq));

    // The committed counter follows a 50 ms sampler: poll until it has seen the last reply's seq.
    await expect.poll(async () => valueOf(await scrape(), 'txtest_committed_seq'), { timeout: 10_000 }).toBeGreaterThanOrEqual(lastSeq);
    await expect.poll(async () => valueOf(await scrape(), 'txtest_updates_committed_total') - committed0, { timeout: 10_000 }).toBe(n);
    const after = await scrape();
    expect(valueOf(after, 'txtest_request_duration_seconds_count', { kind: 'tx' })).toBeGreaterThan(requests0);
    expect(valueOf(after, 'txtest_request_duration_seconds_count', { kind: 'tx' })).toBeLessThanOrEqual(requests0 + n);
    expect(valueOf(after, 'txtest_log_bytes_written_total')).toBeGreaterThan(bytes0);
    expect(valueOf(after, 'txtest_assets')).toBe(17);
    expect(valueOf(after, 'txtest_role_changes_total', { from: 'promoting', to: 'solo' })).toBe(1);
  });

  it('/events streams a hello with the transitions so far, then snapshots', async () => {
    const events = await readEvents((es) => es.some((e) => e.event === 'hello') && es.filter((e) => e.event === 'snapshot').length >= 2);
    const hello = events.find((e) => e.event === 'hello')!.data as { nodeId: string; transitions: { to: string; reason: string }[] };
    expect(hello.nodeId).toBe('m1');
    expect(hello.transitions.map((t) => t.to)).toEqual(['recovering', 'promoting', 'solo']);
    expect(hello.transitions.every((t) => t.reason.length > 0)).toBe(true);
    const snap = events.find((e) => e.event === 'snapshot')!.data as Record<string, unknown>;
    expect(snap).toMatchObject({ nodeId: 'm1', role: 'solo', http: node.http, pid: node.pid, peer: null });
  });

  it('every GET endpoint answers with CORS open, and /readyz and /healthz follow the role', async () => {
    for (const path of ['/healthz', '/readyz', '/status', '/metrics', '/']) {
      const res = await fetch(`http://${node.http}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('access-control-allow-origin'), path).toBe('*');
    }
    expect(await (await fetch(`http://${node.http}/status`)).json()).toMatchObject({ nodeId: 'm1', role: 'solo', http: node.http });
    expect((await fetch(`http://${node.http}/nope`)).status).toBe(404);
  });

  it('serves the page and the diagram with every state of the machine', async () => {
    const html = await (await fetch(`http://${node.http}/`)).text();
    expect(html).toContain('<script src="visualizer.js">');
    for (const asset of ['/visualizer.js', '/visualizer.css']) expect((await fetch(`http://${node.http}${asset}`)).status).toBe(200);
    const svg = await (await fetch(`http://${node.http}/diagram.svg`)).text();
    for (const id of allStateIds(roleGraph())) expect(svg).toContain(`data-state="${id}"`);
  });

  it('log lines carry {node, epoch, role}, the last two following the role', async () => {
    for (const l of node.lines) expect(l, JSON.stringify(l)).toMatchObject({ node: 'm1', epoch: expect.any(Number), role: expect.any(String) });
    node.kill('SIGTERM');
    const stopping = await node.waitForLog((l) => l.msg === 'stopping');
    expect(stopping).toMatchObject({ node: 'm1', role: 'solo', epoch: 1 });
    await node.exited;
  });
});
