import { type CoreConfig, readCoreConfig, readEnv, type LoggingSettings, readLoggingSettings } from '@keys/platform';

export interface GatewayConfig extends Pick<CoreConfig, 'natsUrl' | 'natsUser' | 'natsPassword' | 'natsCreds' | 'subjectPrefix'> {
  /** LOG_LEVEL and LOG_FORMAT. */
  logging: LoggingSettings;
  port: number;
  /** Per verify request; a slower verifier means 503 rather than a hanging inference request. */
  verifyTimeoutMs: number;
}

export function readGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const core = readCoreConfig(env);
  return {
    logging: readLoggingSettings(env),
    natsUrl: core.natsUrl,
    natsUser: core.natsUser,
    natsPassword: core.natsPassword,
    natsCreds: core.natsCreds,
    subjectPrefix: core.subjectPrefix,
    port: readEnv.int(env, 'PORT', 3003, { min: 0, max: 65535 }),
    verifyTimeoutMs: readEnv.int(env, 'VERIFY_TIMEOUT_MS', 500, { min: 10, max: 60_000 }),
  };
}
