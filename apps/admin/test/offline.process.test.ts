/**
 * txtest-admin verify and inspect on the files a real node left behind (SIGKILLed):
 * a sound data dir passes and is summarised; inspect prints every record with the
 * outcome it had; a flipped byte in the middle of a segment, in a snapshot's body or a
 * cut-off epoch record is named with its file and byte offset (exit 1); a torn tail is
 * a note, not damage; nothing on disk changes.
 */
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TxClient } from '@txtest/client';
import { runAdmin, startNatsServer, startNode, type NatsServerHandle } from '@txtest/testkit';

let nats: NatsServerHandle;
let dataDir: string;
const dirs: string[] = [];
/** What the node answered, by request id. */
const replies = new Map<string, unknown>();

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: false });
  dataDir = mkdtempSync(join(tmpdir(), 'txtest-admin-'));
  dirs.push(dataDir);
  // Small segments and frequent snapshots: several of each, some segments covered by a snapshot.
  const node = await startNode([
    '--id',
    'a1',
    '--standalone',
    '--nats',
    nats.url,
    '--data-dir',
    dataDir,
    '--http',
    '0',
    '--fsync',
    'always',
    '--snapshot-every',
    '40',
    '--segment-bytes',
    '4096',
  ]);
  const nc = await connect({ servers: nats.url, noAsyncTraces: true });
  const client = new TxClient(nc, { batching: false });
  for (let i = 0; i < 150; i++) {
    const id = `r-${i}`;
    // Every tenth a debit too large for the balance: a refusal is an outcome too.
    const req =
      i % 10 === 9
        ? { id, asset: `acct-${i % 7}`, op: 'debit', args: { amount: 1_000_000 } }
        : { id, asset: `acct-${i % 7}`, op: 'credit', args: { amount: i + 1 }, model: 'account' };
    replies.set(id, await client.update(req));
  }
  client.close();
  await nc.close();
  node.kill('SIGKILL');
  await node.exited;
}, 60_000);

afterAll(async () => {
  await nats?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A copy of the node's data dir to damage. */
function copy(): string {
  const d = mkdtempSync(join(tmpdir(), 'txtest-admin-copy-'));
  dirs.push(d);
  cpSync(dataDir, d, { recursive: true });
  return d;
}

const files = (d: string, ext: string) =>
  readdirSync(join(d, 'log'))
    .filter((f) => f.endsWith(ext))
    .sort();

/** Every file's size and mtime: what a read-only command must leave as it was. */
function fingerprint(d: string): string {
  return readdirSync(join(d, 'log'))
    .sort()
    .map((f) => `${f}:${statSync(join(d, 'log', f)).size}:${statSync(join(d, 'log', f)).mtimeMs}`)
    .join(',');
}

describe('txtest-admin verify', () => {
  it('passes a sound data dir and says what it holds', async () => {
    expect(files(dataDir, '.snap').length).toBeGreaterThan(0);
    expect(files(dataDir, '.log').length).toBeGreaterThan(1);
    const before = fingerprint(dataDir);
    const r = await runAdmin(['verify', dataDir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/: sound\n/);
    expect(r.stdout).toMatch(/log: \d+ segment\(s\), seq \d+\.\.150, last epoch 1/);
    expect(r.stdout).toMatch(/epoch record: epoch 1, role \w+, primary a1/);
    expect(fingerprint(dataDir)).toBe(before);
  });

  it('names the segment and byte offset of a flipped byte in the middle of the log', async () => {
    const d = copy();
    const seg = join(d, 'log', files(d, '.log')[0]!);
    const bytes = readFileSync(seg);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(seg, bytes);
    const r = await runAdmin(['verify', d]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`DAMAGED: journal: ${files(d, '.log')[0]!.replace('.', '\\.')} is corrupt at byte offset \\d+`));
  });

  it('names a snapshot whose body is damaged, and an epoch record cut short', async () => {
    const d = copy();
    const snap = join(d, 'log', files(d, '.snap').at(-1)!);
    const bytes = readFileSync(snap);
    bytes[bytes.length - 5] ^= 0xff;
    writeFileSync(snap, bytes);
    const r = await runAdmin(['verify', d]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/DAMAGED: snapshot snapshot-\d+\.snap is corrupt: body checksum mismatch .*byte offset 32/);
    const e = copy();
    writeFileSync(join(e, 'epoch.slots'), readFileSync(join(e, 'epoch.slots')).subarray(0, 10));
    const r2 = await runAdmin(['verify', e]);
    expect(r2.code).toBe(1);
    expect(r2.stdout).toMatch(/DAMAGED: .*epoch\.slots/);
  });

  it('reports a torn tail as a note, not damage, and leaves it in place', async () => {
    const d = copy();
    const seg = join(d, 'log', files(d, '.log').at(-1)!);
    appendFileSync(seg, Buffer.from([0x30, 0, 0, 0, 1, 2, 3]));
    const size = statSync(seg).size;
    const r = await runAdmin(['verify', d]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/note: journal: \d+\.log ends in a torn tail at byte offset \d+/);
    expect(statSync(seg).size).toBe(size);
  });

  it('refuses what is not a data dir with one sentence and exit 2', async () => {
    const r = await runAdmin(['verify', join(dataDir, 'nope')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^txtest-admin verify: ".*nope" is not a directory\n$/);
  });
});

describe('txtest-admin inspect', () => {
  it('prints every record as a JSON line with the outcome its reply had', async () => {
    const r = await runAdmin(['inspect', dataDir]);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; id: string; outcome: unknown; op: string; args: unknown });
    const first = lines[0]!.seq;
    expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: 150 - first + 1 }, (_, i) => first + i));
    for (const l of lines) {
      const reply = replies.get(l.id) as { ok: boolean; seq: number; version: number; result?: unknown; error?: unknown };
      expect(reply.seq).toBe(l.seq);
      expect(l.outcome).toEqual(
        reply.ok ? { ok: true, version: reply.version, result: reply.result } : { ok: false, version: reply.version, error: reply.error },
      );
    }
  });

  it('prints a range, starting from a snapshot before it', async () => {
    const r = await runAdmin(['inspect', dataDir, '--from', '101', '--to', '110']);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; id: string; outcome: { version: number } });
    expect(lines.map((l) => l.seq)).toEqual([101, 102, 103, 104, 105, 106, 107, 108, 109, 110]);
    for (const l of lines) expect(l.outcome.version).toBe((replies.get(l.id) as { version: number }).version);
    const bad = await runAdmin(['inspect', dataDir, '--from', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--from/);
  });
});
