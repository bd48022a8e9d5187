/**
 * Connecting to NATS with the operator's authentication and TLS settings. This lib is
 * the only place that imports the NATS client. Secrets pass straight to the client
 * and are never logged: `describeNats` gives a loggable summary without them.
 */
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';

export interface NatsSettings {
  url: string;
  credsFile?: string;
  user?: string;
  password?: string;
  token?: string;
  tlsCaFile?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** The prefix of reply subjects (default `_INBOX`), where the NATS user may subscribe only to its own. */
  inboxPrefix?: string;
}

export async function connectNats(s: NatsSettings, name: string, extra: Partial<NodeConnectionOptions> = {}): Promise<NatsConnection> {
  const opts: NodeConnectionOptions = {
    servers: s.url.split(','),
    name,
    noAsyncTraces: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    ...extra,
  };
  if (s.credsFile !== undefined) opts.authenticator = credsAuthenticator(readFileSync(s.credsFile));
  if (s.user !== undefined) {
    opts.user = s.user;
    if (s.password !== undefined) opts.pass = s.password;
  }
  if (s.token !== undefined) opts.token = s.token;
  if (s.inboxPrefix !== undefined) opts.inboxPrefix = s.inboxPrefix;
  if (s.tlsCaFile !== undefined || s.tlsCertFile !== undefined || s.tlsKeyFile !== undefined) {
    opts.tls = {};
    if (s.tlsCaFile !== undefined) opts.tls.caFile = s.tlsCaFile;
    if (s.tlsCertFile !== undefined) opts.tls.certFile = s.tlsCertFile;
    if (s.tlsKeyFile !== undefined) opts.tls.keyFile = s.tlsKeyFile;
  }
  return connect(opts);
}

/** What may be logged about the NATS settings: the URL without credentials and which auth kinds are in use. */
export function describeNats(s: NatsSettings): { url: string; auth: string[]; tls: boolean } {
  const auth: string[] = [];
  if (s.credsFile !== undefined) auth.push('creds');
  if (s.user !== undefined) auth.push('user');
  if (s.token !== undefined) auth.push('token');
  const url = s.url.replace(/\/\/[^@/]*@/g, '//***@');
  return { url, auth, tls: s.tlsCaFile !== undefined || s.tlsCertFile !== undefined };
}
