/**
 * The node's settings as docs/PROTOCOL.md section 9 and the README document them: every
 * documented flag and env form gives the setting it promises, the checks across flags
 * hold, and a bad setting is one sentence naming it.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError, parseCommand } from '@txtest/cli';
import { NODE_COMMAND, nodeConfig, type NodeConfig } from '../src/config';

function config(argv: string[], env: NodeJS.ProcessEnv = {}): NodeConfig {
  const p = parseCommand(NODE_COMMAND, argv, env);
  if (p.kind !== 'run') throw new Error(`asked for ${p.kind}`);
  return nodeConfig(p.values);
}

function refusal(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    config(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(argv)}`);
}

describe('node settings', () => {
  it('defaults: a pair member with fsync every 5 ms, events on, the arbiter decided at start', () => {
    const c = config(['--id', 'n1', '--peer', 'n2']);
    expect(c).toMatchObject({
      id: 'n1',
      peer: 'n2',
      standalone: false,
      cluster: 'default',
      prefix: 'txtest',
      shard: { index: 0, count: 1 },
      nats: { url: 'nats://127.0.0.1:4222' },
      dataDir: './data/n1',
      http: { host: '127.0.0.1', port: 7070 },
      heartbeatIntervalMs: 50,
      heartbeatMissed: 4,
      arbiter: 'auto',
      forcePrimary: false,
      fsync: { kind: 'interval', ms: 5 },
      ack: 'received',
      events: true,
      repairLog: false,
      logLevel: 'info',
      replicationRingBytes: 8388608,
      heapGrowthPercent: 50,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('every documented flag form works', () => {
    expect(config(['--id', 'n1', '--standalone'])).toMatchObject({ standalone: true, peer: null });
    expect(config(['--id', 'n1', '--peer', 'n2', '--force-primary']).forcePrimary).toBe(true);
    expect(config(['--id', 'n1', '--standalone', '--repair-log']).repairLog).toBe(true);
    expect(config(['--id', 'n1', '--standalone', '--fsync', 'always']).fsync).toEqual({ kind: 'always' });
    expect(config(['--id', 'n1', '--standalone', '--fsync', 'never']).fsync).toEqual({ kind: 'never' });
    expect(config(['--id', 'n1', '--standalone', '--fsync=5ms']).fsync).toEqual({ kind: 'interval', ms: 5 });
    expect(config(['--id', 'n1', '--standalone', '--events', 'off']).events).toBe(false);
    expect(config(['--id', 'n1', '--standalone', '--events=on']).events).toBe(true);
    expect(config(['--id', 'n1', '--standalone', '--no-events']).events).toBe(false);
    expect(config(['--id', 'n1', '--peer', 'n2', '--ack', 'logged', '--fsync', 'always']).ack).toBe('logged');
    expect(config(['--id', 'n1', '--peer', 'n2', '--arbiter', 'kv']).arbiter).toBe('kv');
    expect(config(['--id', 'n1', '--peer', 'n2', '--arbiter', 'off']).arbiter).toBe('off');
    expect(config(['--id', 'n1', '--standalone', '--heap-growth-percent', '0']).heapGrowthPercent).toBe(0);
    expect(config(['--id', 'n1', '--standalone', '--http', '0']).http).toEqual({ host: '127.0.0.1', port: 0 });
    expect(config(['--id', 'n1', '--standalone', '--http', '0.0.0.0:8080']).http).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(config(['--id', 'n1', '--peer', 'n2', '--heartbeat-interval-ms', '20', '--heartbeat-missed', '5'])).toMatchObject({
      heartbeatIntervalMs: 20,
      heartbeatMissed: 5,
    });
  });

  it('every documented env form works, and a flag beats its variable', () => {
    const env = {
      TXTEST_NODE_ID: 'e1',
      TXTEST_PEER_ID: 'e2',
      TXTEST_CLUSTER: 'c1',
      TXTEST_PREFIX: 'p1',
      TXTEST_NATS_URL: 'nats://10.0.0.1:4222',
      TXTEST_DATA_DIR: '/d',
      TXTEST_HTTP: '9090',
      TXTEST_HEARTBEAT_INTERVAL_MS: '25',
      TXTEST_HEARTBEAT_MISSED: '3',
      TXTEST_ARBITER: 'off',
      TXTEST_FORCE_PRIMARY: '1',
      TXTEST_FSYNC: 'always',
      TXTEST_ACK: 'logged',
      TXTEST_EVENTS: 'off',
      TXTEST_REPAIR_LOG: '1',
      TXTEST_HEAP_GROWTH_PERCENT: '50',
      TXTEST_NATS_USER: 'u',
      TXTEST_NATS_PASSWORD: 'pw',
    };
    expect(config([], env)).toMatchObject({
      id: 'e1',
      peer: 'e2',
      cluster: 'c1',
      prefix: 'p1',
      nats: { url: 'nats://10.0.0.1:4222', user: 'u', password: 'pw' },
      dataDir: '/d',
      http: { port: 9090 },
      heartbeatIntervalMs: 25,
      heartbeatMissed: 3,
      arbiter: 'off',
      forcePrimary: true,
      fsync: { kind: 'always' },
      ack: 'logged',
      events: false,
      repairLog: true,
      heapGrowthPercent: 50,
    });
    expect(config([], { TXTEST_NODE_ID: 'e1', TXTEST_STANDALONE: '1' })).toMatchObject({ standalone: true, peer: null });
    expect(config(['--id', 's1-n1', '--peer', 's1-n2'], { TXTEST_SHARDS: '4', TXTEST_SHARD: '1' }).shard).toEqual({ index: 1, count: 4 });
    expect(config(['--id', 'f1', '--fsync', '5ms', '--ack', 'received'], env)).toMatchObject({ id: 'f1', fsync: { kind: 'interval', ms: 5 }, ack: 'received' });
  });

  it.each([
    [['--id', 'n1'], {}, '--peer is required unless --standalone (or TXTEST_PEER_ID): the id of the other node'],
    [['--id', 'n1', '--peer', 'n1'], {}, '--peer must differ from --id (both are "n1")'],
    [['--id', 'a.b', '--standalone'], {}, '--id: expected letters, digits, _ or -, got "a.b"'],
    [['--id', '--peer', 'n2'], {}, '--id: missing value (the next argument "--peer" is a flag'],
    [['--id', 'n1', '--standalone', '--fsync', 'sometimes'], {}, '--fsync: expected always, never or an interval of 1ms..60s such as 5ms, got "sometimes"'],
    [['--id', 'n1', '--standalone', '--heartbeat-interval-ms', '500'], {}, '--heartbeat-interval-ms: expected a duration between 5ms and 100ms, got "500"'],
    [['--id', 'n1', '--standalone', '--heartbeat-missed', 'x'], {}, '--heartbeat-missed: expected an integer between 2 and 100, got "x"'],
    [['--id', 'n1', '--standalone', '--heap-growth-percent', '500'], {}, '--heap-growth-percent: expected an integer between 0 and 400, got "500"'],
    [['--id', 'n1', '--standalone', '--http', 'x:99999'], {}, '--http: expected host:port, a port (at most 65535), or 0, got "x:99999"'],
    [['--id', 'n1', '--standalone', '--nats', 'http://x'], {}, '--nats: expected a URL such as nats://127.0.0.1:4222, got "http://x"'],
    [['--id', 'n1', '--standalone', '--nats-password', 'pw'], {}, '--nats-password needs --nats-user'],
    [['--id', 'n1', '--standalone', '--ack', 'logged', '--fsync', 'never'], {}, '--ack logged needs the log to be synced'],
    [['--id', 'n1', '--peer', 'n2'], { TXTEST_STANDALONE: 'maybe' }, 'TXTEST_STANDALONE (--standalone): expected 1 or 0'],
    [['--id', 'n1', '--standalone', '--shards', '2', '--shard', '2'], {}, '--shard (2) must be less than --shards (2): shards are numbered from 0'],
    [['--id', 'n1', '--standalone', '--shards', '0'], {}, '--shards: expected an integer between 1 and 1024, got "0"'],
  ])('%j (env %j) is refused in one sentence', (argv, env, want) => {
    expect(refusal(argv, env)).toContain(want);
  });

  describe('--cluster-key-file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'txtest-keyfile-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, text: string, mode = 0o600) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      chmodSync(path, mode);
      return path;
    };
    const KEY = 'a'.repeat(64);

    it('reads one key per line (the first signs), skipping blanks and comments; the env form too', () => {
      const path = file('two.key', `# rotation: the new key first\n${KEY}\n\n${'b'.repeat(32)}\n`);
      const keys = config(['--id', 'n1', '--peer', 'n2', '--cluster-key-file', path]).clusterKeys!;
      expect(keys.map((k) => Buffer.from(k).toString())).toEqual([KEY, 'b'.repeat(32)]);
      expect(config(['--id', 'n1', '--peer', 'n2'], { TXTEST_CLUSTER_KEY_FILE: path }).clusterKeys).toHaveLength(2);
      expect(config(['--id', 'n1', '--peer', 'n2']).clusterKeys).toBeNull();
    });

    it.each([
      ['missing', () => join(dir, 'nope.key'), 'cannot read', 'ENOENT'],
      ['short', () => file('short.key', 'abc123\n'), 'is 6 bytes; at least 32 are needed', 'openssl rand -hex 32'],
      ['empty', () => file('empty.key', '\n# nothing\n'), 'holds no key', 'one per line'],
      ['world-readable', () => file('open.key', KEY, 0o644), 'is open to group or others (mode 644)', 'chmod 600'],
      ['group-readable', () => file('group.key', KEY, 0o640), 'mode 640', 'chmod 600'],
    ])('a %s key file is refused in one sentence', (_what, path, want, hint) => {
      const msg = refusal(['--id', 'n1', '--peer', 'n2', '--cluster-key-file', path()]);
      expect(msg).toMatch(/^--cluster-key-file: /);
      expect(msg).toContain(want);
      expect(msg).toContain(hint);
    });
  });
});
