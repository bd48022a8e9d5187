/** Connecting to NATS with the same settings as the node (URL list, creds, user, token, TLS). */
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import type { NatsSettings } from './args';

export async function connectNats(s: NatsSettings, name: string): Promise<NatsConnection> {
  const opts: NodeConnectionOptions = { servers: s.url.split(','), name, noAsyncTraces: true, maxReconnectAttempts: -1, reconnectTimeWait: 250 };
  if (s.credsFile !== undefined) opts.authenticator = credsAuthenticator(readFileSync(s.credsFile));
  if (s.user !== undefined) {
    opts.user = s.user;
    if (s.password !== undefined) opts.pass = s.password;
  }
  if (s.token !== undefined) opts.token = s.token;
  if (s.tlsCaFile !== undefined || s.tlsCertFile !== undefined || s.tlsKeyFile !== undefined) {
    opts.tls = {};
    if (s.tlsCaFile !== undefined) opts.tls.caFile = s.tlsCaFile;
    if (s.tlsCertFile !== undefined) opts.tls.certFile = s.tlsCertFile;
    if (s.tlsKeyFile !== undefined) opts.tls.keyFile = s.tlsKeyFile;
  }
  return connect(opts);
}
