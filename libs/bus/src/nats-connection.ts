import type { NatsSettings } from '@keys/auth';

// The connection itself (reconnect forever, inbox prefix, no async traces, credentials) is the client package's:
// services outside this repository connect exactly as the apps do.
export { connectNats, type NatsSettings } from '@keys/auth';

export function natsSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): NatsSettings {
  return {
    url: env.NATS_URL ?? 'nats://127.0.0.1:4222',
    user: env.NATS_USER || undefined,
    password: env.NATS_PASSWORD || undefined,
    credsFile: env.NATS_CREDS || undefined,
    inboxPrefix: env.NATS_INBOX_PREFIX || undefined,
  };
}
