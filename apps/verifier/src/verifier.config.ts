import { type CoreConfig, readCoreConfig, readEnv } from '@keys/platform';

export interface VerifierConfig extends CoreConfig {
  port: number;
  /** Not ready while more than this many committed events are not yet in the index. */
  readyMaxLagEvents: number;
  /** Rows per query while catching up from the event store. */
  catchUpBatchSize: number;
  /** Safety-net poll of the event store; LISTEN/NOTIFY and JetStream normally deliver within milliseconds. */
  storePollIntervalMs: number;
  /** How long a JetStream pull waits; heartbeats (half of it) tell when the consumer is gone. */
  jetStreamExpiresMs: number;
}

export function readVerifierConfig(env: NodeJS.ProcessEnv = process.env): VerifierConfig {
  return {
    ...readCoreConfig(env),
    port: readEnv.int(env, 'PORT', 3002, { min: 0, max: 65535 }),
    readyMaxLagEvents: readEnv.int(env, 'VERIFIER_READY_MAX_LAG', 10, { min: 0, max: 1_000_000 }),
    catchUpBatchSize: readEnv.int(env, 'VERIFIER_CATCH_UP_BATCH', 5000, { min: 1, max: 100_000 }),
    storePollIntervalMs: readEnv.int(env, 'VERIFIER_STORE_POLL_MS', 1000, { min: 10, max: 60_000 }),
    jetStreamExpiresMs: readEnv.int(env, 'VERIFIER_JETSTREAM_EXPIRES_MS', 5000, { min: 1000, max: 60_000 }),
  };
}

export const VERIFIER_CONFIG = Symbol('VERIFIER_CONFIG');
