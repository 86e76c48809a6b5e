import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from 'nats';

export interface NatsSettings {
  /** One URL or several, comma-separated. */
  url: string;
  user?: string;
  password?: string;
  /** Path to a .creds file (JWT + nkey seed); takes precedence over user/password. */
  credsFile?: string;
  /**
   * Prefix of this connection's reply inboxes instead of `_INBOX` (deploy/nats.conf lets each user subscribe
   * only to `_INBOX_<user>.>`). Defaults to env NATS_INBOX_PREFIX.
   */
  inboxPrefix?: string;
}

/**
 * Connects with these settings and keeps reconnecting forever (a verifier restart or a NATS blip must not
 * end the service's connection). `extra` overrides any nats.js option.
 */
export async function connectNats(settings: NatsSettings, name: string, extra: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
  const options: ConnectionOptions = {
    servers: settings.url.split(','),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    // nats.js otherwise captures a stack trace for every request in case it times out; errors here are
    // reported by reason, never by that stack.
    noAsyncTraces: true,
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

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  return url
    .split(',')
    .map((one) => one.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@'))
    .join(',');
}
