import { ConfigError, type CoreConfig, readCoreConfig, readEnv } from '@keys/platform';

export interface ProjectorConfig extends CoreConfig {
  port: number;
  /** Durable JetStream consumer name; its position lives in JetStream, the read models' in `checkpoints`. */
  consumerName: string;
  /** Most events applied in one transaction. */
  batchSize: number;
  /** When no message arrived for this long, compare the store's head with the checkpoint and catch up from the store (0 = never). */
  idleCatchUpMs: number;
  /** Seconds JetStream waits for an ack before redelivering (redeliveries are skipped by the checkpoint). */
  ackWaitSeconds: number;
}

export function readProjectorConfig(env: NodeJS.ProcessEnv = process.env): ProjectorConfig {
  const consumerName = readEnv.string(env, 'PROJECTOR_CONSUMER', 'projector');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(consumerName)) {
    throw new ConfigError(`PROJECTOR_CONSUMER must be 1-64 letters, digits, "-" or "_", got "${consumerName}"`);
  }
  return {
    ...readCoreConfig(env),
    port: readEnv.int(env, 'PORT', 3001, { min: 0, max: 65535 }),
    consumerName,
    batchSize: readEnv.int(env, 'PROJECTOR_BATCH_SIZE', 500, { min: 1, max: 10_000 }),
    idleCatchUpMs: readEnv.int(env, 'PROJECTOR_IDLE_CATCH_UP_MS', 1000, { min: 0, max: 3_600_000 }),
    ackWaitSeconds: readEnv.int(env, 'PROJECTOR_ACK_WAIT_SECONDS', 10, { min: 1, max: 3600 }),
  };
}

export const PROJECTOR_CONFIG = Symbol('PROJECTOR_CONFIG');
