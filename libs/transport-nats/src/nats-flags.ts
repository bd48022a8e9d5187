/**
 * The NATS settings and the cluster's subjects as flags and env variables: one table
 * for every binary that connects (the node, the loadgen and its req), so they read the
 * same names the same way.
 */
import { CliError, expected, type Flag, type Values } from '@txtest/cli';
import { DEFAULT_CLUSTER, DEFAULT_PREFIX, isSubjectToken } from '@txtest/protocol';
import type { NatsSettings } from './connect';

/** A flag `parse` for a name that goes into a subject: a cluster, a prefix, a node id. */
export function subjectToken(raw: string): string {
  if (!isSubjectToken(raw)) throw expected('letters, digits, _ or -', raw);
  return raw;
}

/** Which cluster's subjects (`<prefix>.<cluster>.*`) a binary serves or talks to. */
export const SUBJECT_FLAGS = [
  {
    name: 'cluster',
    env: 'TXTEST_CLUSTER',
    type: 'string',
    value: 'name',
    parse: subjectToken,
    default: DEFAULT_CLUSTER,
    help: 'cluster name (subject token)',
  },
  { name: 'prefix', env: 'TXTEST_PREFIX', type: 'string', value: 'p', parse: subjectToken, default: DEFAULT_PREFIX, help: 'subject prefix' },
] as const satisfies readonly Flag[];

function natsUrls(raw: string): string {
  for (const u of raw.split(',')) {
    if (!/^(nats|tls|ws|wss):\/\/[^\s]+$|^[^\s/:]+:\d+$/.test(u)) throw expected('a URL such as nats://127.0.0.1:4222', u);
  }
  return raw;
}

/** Subject tokens joined by dots, no wildcards: what an inbox prefix may be. */
function inboxPrefix(raw: string): string {
  if (!raw.split('.').every((t) => /^[A-Za-z0-9_$-]+$/.test(t))) throw expected('subject tokens joined by dots, no wildcards, e.g. _INBOX_clients', raw);
  return raw;
}

export const NATS_FLAGS = [
  {
    name: 'nats',
    env: 'TXTEST_NATS_URL',
    type: 'string',
    value: 'url',
    parse: natsUrls,
    default: 'nats://127.0.0.1:4222',
    help: 'NATS server URL(s), comma-separated',
  },
  { name: 'nats-creds', env: 'TXTEST_NATS_CREDS', type: 'string', value: 'file', help: 'NATS credentials file' },
  { name: 'nats-user', env: 'TXTEST_NATS_USER', type: 'string', value: 'user', help: 'NATS user name' },
  { name: 'nats-password', env: 'TXTEST_NATS_PASSWORD', type: 'string', value: 'pw', help: 'NATS password (prefer the env variable)' },
  { name: 'nats-token', env: 'TXTEST_NATS_TOKEN', type: 'string', value: 'token', help: 'NATS token (prefer the env variable)' },
  { name: 'nats-tls-ca', env: 'TXTEST_NATS_TLS_CA', type: 'string', value: 'file', help: 'CA file to verify the NATS server' },
  { name: 'nats-tls-cert', env: 'TXTEST_NATS_TLS_CERT', type: 'string', value: 'file', help: 'client certificate file for NATS TLS' },
  { name: 'nats-tls-key', env: 'TXTEST_NATS_TLS_KEY', type: 'string', value: 'file', help: 'client key file for NATS TLS' },
  {
    name: 'nats-inbox-prefix',
    env: 'TXTEST_NATS_INBOX_PREFIX',
    type: 'string',
    value: 'prefix',
    parse: inboxPrefix,
    help: 'prefix of reply subjects [_INBOX], for a NATS user that may subscribe only to its own inboxes (docs/SECURITY.md)',
  },
] as const satisfies readonly Flag[];

/** The parsed NATS flags as connectNats takes them; only the settings given are present. */
export function natsSettings(v: Values<typeof NATS_FLAGS>): NatsSettings {
  const s: NatsSettings = { url: v.nats };
  const optional: [Exclude<keyof NatsSettings, 'url'>, Exclude<keyof Values<typeof NATS_FLAGS>, 'nats'>][] = [
    ['credsFile', 'nats-creds'],
    ['user', 'nats-user'],
    ['password', 'nats-password'],
    ['token', 'nats-token'],
    ['tlsCaFile', 'nats-tls-ca'],
    ['tlsCertFile', 'nats-tls-cert'],
    ['tlsKeyFile', 'nats-tls-key'],
    ['inboxPrefix', 'nats-inbox-prefix'],
  ];
  for (const [key, flag] of optional) {
    const value = v[flag];
    if (value !== undefined) s[key] = value;
  }
  if (s.password !== undefined && s.user === undefined) throw new CliError('--nats-password needs --nats-user');
  return s;
}
