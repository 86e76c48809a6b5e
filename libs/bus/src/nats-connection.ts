import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from 'nats';
import { readFileSync } from 'node:fs';

export interface NatsSettings {
  url: string;
  user?: string;
  password?: string;
  /** Path to a .creds file (JWT + nkey seed); takes precedence over user/password. */
  credsFile?: string;
  /**
   * Prefix of this connection's reply inboxes (requests, JetStream API and deliveries) instead of `_INBOX`.
   * deploy/nats.conf lets each user subscribe only to its own prefix, so no user can read another's replies.
   * Defaults to env NATS_INBOX_PREFIX.
   */
  inboxPrefix?: string;
}

export function natsSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): NatsSettings {
  return {
    url: env.NATS_URL ?? 'nats://127.0.0.1:4222',
    user: env.NATS_USER || undefined,
    password: env.NATS_PASSWORD || undefined,
    credsFile: env.NATS_CREDS || undefined,
    inboxPrefix: env.NATS_INBOX_PREFIX || undefined,
  };
}

/**
 * Connects and keeps reconnecting forever: apps report not-ready while NATS is away and recover by
 * themselves when it returns, instead of exiting.
 */
export async function connectNats(settings: NatsSettings, name: string, extra: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
  const options: ConnectionOptions = {
    servers: settings.url.split(','),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    // nats.js otherwise captures an Error (async stack trace) for every request and JetStream publish, in
    // case it later times out: that alone doubled the client CPU of a publish (docs/performance.md). Our
    // errors are reported by message and code, never by that stack.
    noAsyncTraces: true,
    // Read here as well as in natsSettingsFromEnv: the apps build their settings from their own config.
    inboxPrefix: settings.inboxPrefix ?? (process.env.NATS_INBOX_PREFIX || undefined),
    ...extra,
  };
  if (settings.credsFile) {
    options.authenticator = credsAuthenticator(readFileSync(settings.credsFile));
  } else if (settings.user) {
    options.user = settings.user;
    options.pass = settings.password;
  }
  return connect(options);
}
