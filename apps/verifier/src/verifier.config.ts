import { ConfigError, type CoreConfig, readCoreConfig, readEnv, type LoggingSettings, readLoggingSettings } from '@keys/platform';

export interface VerifierConfig extends CoreConfig {
  /** LOG_LEVEL and LOG_FORMAT. */
  logging: LoggingSettings;
  port: number;
  /** Not ready while more than this many committed events are not yet in the index. */
  readyMaxLagEvents: number;
  /** Rows per query while catching up from the event store. */
  catchUpBatchSize: number;
  /** Safety-net poll of the event store; LISTEN/NOTIFY and JetStream normally deliver within milliseconds. */
  storePollIntervalMs: number;
  /** How long a JetStream pull waits; heartbeats (half of it) tell when the consumer is gone. */
  jetStreamExpiresMs: number;
  /** How often the instance announces its applied position to the writers and checks it has not stalled. */
  heartbeatMs: number;
  /** A heartbeat later than this means the process stalled: stop answering until the store is read again. */
  stallMs: number;
  /** How long the instance announces itself before joining the queue group. */
  joinGraceMs: number;
  /** How often the keys used since the last flush are published on `<prefix>.usage`: lastUsedAt's accuracy. */
  usageFlushIntervalMs: number;
}

export function readVerifierConfig(env: NodeJS.ProcessEnv = process.env): VerifierConfig {
  return checked({
    logging: readLoggingSettings(env),
    ...readCoreConfig(env),
    port: readEnv.int(env, 'PORT', 3002, { min: 0, max: 65535 }),
    readyMaxLagEvents: readEnv.int(env, 'VERIFIER_READY_MAX_LAG', 10, { min: 0, max: 1_000_000 }),
    catchUpBatchSize: readEnv.int(env, 'VERIFIER_CATCH_UP_BATCH', 5000, { min: 1, max: 100_000 }),
    storePollIntervalMs: readEnv.int(env, 'VERIFIER_STORE_POLL_MS', 1000, { min: 10, max: 60_000 }),
    jetStreamExpiresMs: readEnv.int(env, 'VERIFIER_JETSTREAM_EXPIRES_MS', 5000, { min: 1000, max: 60_000 }),
    heartbeatMs: readEnv.int(env, 'VERIFIER_HEARTBEAT_MS', 100, { min: 10, max: 10_000 }),
    stallMs: readEnv.int(env, 'VERIFIER_STALL_MS', 500, { min: 30, max: 60_000 }),
    joinGraceMs: readEnv.int(env, 'VERIFIER_JOIN_GRACE_MS', 200, { min: 0, max: 60_000 }),
    usageFlushIntervalMs: readEnv.int(env, 'USAGE_FLUSH_INTERVAL_MS', 60_000, { min: 10, max: 3_600_000 }),
  });
}

function checked(config: VerifierConfig): VerifierConfig {
  if (config.stallMs < 2 * config.heartbeatMs) {
    throw new ConfigError(`VERIFIER_STALL_MS must be at least twice VERIFIER_HEARTBEAT_MS, got ${config.stallMs} and ${config.heartbeatMs}`);
  }
  return config;
}

export const VERIFIER_CONFIG = Symbol('VERIFIER_CONFIG');
