import { ConfigError, type CoreConfig, readCoreConfig, readEnv, type LoggingSettings, readLoggingSettings } from '@keys/platform';

export interface ProjectorConfig extends CoreConfig {
  /** LOG_LEVEL and LOG_FORMAT. */
  logging: LoggingSettings;
  port: number;
  /** Durable JetStream consumer that wakes the projector (the read models' position lives in `checkpoints`). */
  consumerName: string;
  /** Most events applied in one transaction. */
  batchSize: number;
  /** Safety-net poll of the event store; LISTEN/NOTIFY and the consumer normally wake the projector at once. */
  storePollIntervalMs: number;
  /** How long a JetStream pull waits; missed heartbeats (half of it) mark the consumer broken. */
  jetStreamExpiresMs: number;
  /** Seconds JetStream waits for an ack before redelivering (a redelivery only wakes the projector again). */
  ackWaitSeconds: number;
}

export function readProjectorConfig(env: NodeJS.ProcessEnv = process.env): ProjectorConfig {
  const consumerName = readEnv.string(env, 'PROJECTOR_CONSUMER', 'projector');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(consumerName)) {
    throw new ConfigError(`PROJECTOR_CONSUMER must be 1-64 letters, digits, "-" or "_", got "${consumerName}"`);
  }
  return {
    logging: readLoggingSettings(env),
    ...readCoreConfig(env),
    port: readEnv.int(env, 'PORT', 3001, { min: 0, max: 65535 }),
    consumerName,
    batchSize: readEnv.int(env, 'PROJECTOR_BATCH_SIZE', 500, { min: 1, max: 10_000 }),
    storePollIntervalMs: readEnv.int(env, 'PROJECTOR_STORE_POLL_MS', 1000, { min: 10, max: 60_000 }),
    jetStreamExpiresMs: readEnv.int(env, 'PROJECTOR_JETSTREAM_EXPIRES_MS', 5000, { min: 1000, max: 60_000 }),
    ackWaitSeconds: readEnv.int(env, 'PROJECTOR_ACK_WAIT_SECONDS', 10, { min: 1, max: 3600 }),
  };
}

export const PROJECTOR_CONFIG = Symbol('PROJECTOR_CONFIG');
