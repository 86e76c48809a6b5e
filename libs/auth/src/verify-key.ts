import type { NatsConnection } from 'nats';
import { connectNats, type NatsSettings } from './nats-connection';
import { NatsKeyVerifier, type NatsKeyVerifierOptions } from './nats-key.verifier';
import type { KeyType, Verdict } from './verdict';

export interface VerifyKeyConnectOptions extends NatsKeyVerifierOptions {
  nats: NatsSettings;
  /** NATS connection name, shown in the server's monitoring. */
  connectionName?: string;
}

/**
 * One verification without Nest: over a connection the caller already has (cheap; the usual case), or over a
 * connection opened and closed for this call (for scripts and jobs; a service keeps one connection and a
 * NatsKeyVerifier instead). Resolves to the verdict, refusals included; rejects with VerifierUnavailableError
 * only when no verdict could be had.
 */
export function verifyKey(nc: NatsConnection, key: string, scope: KeyType, options?: NatsKeyVerifierOptions): Promise<Verdict>;
export function verifyKey(options: VerifyKeyConnectOptions, key: string, scope: KeyType): Promise<Verdict>;
export async function verifyKey(
  target: NatsConnection | VerifyKeyConnectOptions,
  key: string,
  scope: KeyType,
  options: NatsKeyVerifierOptions = {},
): Promise<Verdict> {
  if (!isConnectOptions(target)) return new NatsKeyVerifier(target, options).verify(key, scope);
  const nc = await connectNats(target.nats, target.connectionName ?? 'keys-auth-verify', { waitOnFirstConnect: false, maxReconnectAttempts: 0 });
  try {
    return await new NatsKeyVerifier(nc, target).verify(key, scope);
  } finally {
    await nc.close();
  }
}

function isConnectOptions(target: NatsConnection | VerifyKeyConnectOptions): target is VerifyKeyConnectOptions {
  return typeof (target as Partial<VerifyKeyConnectOptions>).nats === 'object' && typeof (target as Partial<NatsConnection>).request !== 'function';
}
