import { type CoreConfig, readCoreConfig, readEnv, type LoggingSettings, readLoggingSettings } from '@keys/platform';

export interface CommandConfig extends CoreConfig {
  /** LOG_LEVEL and LOG_FORMAT. */
  logging: LoggingSettings;
  port: number;
  /** Honour X-Forwarded-For for the client IP (only behind a proxy you trust). */
  trustProxy: boolean;
  /** How often the expiry sweep looks for keys past their expiresAt. */
  expirySweepIntervalMs: number;
  /** Fallback poll of the outbox relay; NOTIFY wakes it sooner. */
  relayPollIntervalMs: number;
  relayBatchSize: number;
  /** Run the outbox relay and the expiry sweep in this process (one instance holds each at a time). */
  runRelay: boolean;
  runExpirySweep: boolean;
  /** Requests per second per billing key before 429 (0 = no limit), and the burst allowed at once. */
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  /**
   * Failed authentications (401/403) per minute per client IP before that IP gets 429 without any database
   * or bus work (0 = no limit), and the burst allowed at once.
   */
  authFailuresPerMinute: number;
  authFailureBurst: number;
  /**
   * Longest wait for every serving verifier to apply a write before ordering the late ones out of service; 0 does
   * not wait (writes answer `unconfirmed`, as before this guarantee existed).
   */
  verifyPropagationTimeoutMs: number;
  /** A verifier not heard from for this long no longer counts as serving (above its stall bound plus a heartbeat). */
  verifierLivenessMs: number;
  /**
   * GitHub's secret-scanning public keys (the `/meta/public_keys/secret_scanning` document) as a file; without it
   * POST /api/secret-scanning/alerts answers 404 (docs/security.md, Leaked keys).
   */
  secretScanningPublicKeysFile: string | null;
  /** How often the last use of each billing key that authenticated here is written to key_usage (lastUsedAt). */
  usageFlushIntervalMs: number;
}

export function readCommandConfig(env: NodeJS.ProcessEnv = process.env): CommandConfig {
  return {
    logging: readLoggingSettings(env),
    ...readCoreConfig(env),
    port: readEnv.int(env, 'PORT', 3000, { min: 0, max: 65535 }),
    trustProxy: readEnv.bool(env, 'TRUST_PROXY', false),
    expirySweepIntervalMs: readEnv.int(env, 'EXPIRY_SWEEP_INTERVAL_MS', 500, { min: 10, max: 3_600_000 }),
    relayPollIntervalMs: readEnv.int(env, 'RELAY_POLL_INTERVAL_MS', 250, { min: 10, max: 60_000 }),
    relayBatchSize: readEnv.int(env, 'RELAY_BATCH_SIZE', 500, { min: 1, max: 10_000 }),
    runRelay: readEnv.bool(env, 'RUN_RELAY', true),
    runExpirySweep: readEnv.bool(env, 'RUN_EXPIRY_SWEEP', true),
    rateLimitPerSecond: readEnv.int(env, 'RATE_LIMIT_PER_SECOND', 50, { min: 0, max: 1_000_000 }),
    rateLimitBurst: readEnv.int(env, 'RATE_LIMIT_BURST', 200, { min: 1, max: 1_000_000 }),
    authFailuresPerMinute: readEnv.int(env, 'AUTH_FAILURES_PER_MINUTE', 60, { min: 0, max: 1_000_000 }),
    authFailureBurst: readEnv.int(env, 'AUTH_FAILURE_BURST', 30, { min: 1, max: 1_000_000 }),
    verifyPropagationTimeoutMs: readEnv.int(env, 'VERIFY_PROPAGATION_TIMEOUT_MS', 1000, { min: 0, max: 60_000 }),
    verifierLivenessMs: readEnv.int(env, 'VERIFIER_LIVENESS_MS', 1000, { min: 100, max: 60_000 }),
    secretScanningPublicKeysFile: env.SECRET_SCANNING_PUBLIC_KEYS_FILE?.trim() || null,
    usageFlushIntervalMs: readEnv.int(env, 'USAGE_FLUSH_INTERVAL_MS', 60_000, { min: 10, max: 3_600_000 }),
  };
}

export const COMMAND_CONFIG = Symbol('COMMAND_CONFIG');
