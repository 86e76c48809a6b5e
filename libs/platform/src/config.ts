import { accessSync, constants } from 'node:fs';

// One validated configuration object per app, read once at start. A wrong value stops the
// app with a sentence naming the variable and what was wrong.

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = NodeJS.ProcessEnv;

export const readEnv = {
  string(env: Env, name: string, fallback: string): string {
    const value = env[name];
    return value === undefined || value === '' ? fallback : value;
  },
  optionalString(env: Env, name: string): string | undefined {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  },
  int(env: Env, name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
    const value = Number(raw);
    if (range.min !== undefined && value < range.min) throw new ConfigError(`${name} must be at least ${range.min}, got ${value}`);
    if (range.max !== undefined && value > range.max) throw new ConfigError(`${name} must be at most ${range.max}, got ${value}`);
    return value;
  },
  bool(env: Env, name: string, fallback: boolean): boolean {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const normalized = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
    if (['0', 'false', 'no', 'off'].includes(normalized)) return false;
    throw new ConfigError(`${name} must be true or false, got "${raw}"`);
  },
  url(env: Env, name: string, fallback: string, protocols: string[]): string {
    const value = readEnv.string(env, name, fallback);
    for (const part of value.split(',')) {
      let parsed: URL;
      try {
        parsed = new URL(part.trim());
      } catch {
        throw new ConfigError(`${name} must be a URL (${protocols.join(' or ')}), got "${redactUrl(part)}"`);
      }
      if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) {
        throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got "${parsed.protocol}"`);
      }
    }
    return value;
  },
  subjectToken(env: Env, name: string, fallback: string): string {
    const value = readEnv.string(env, name, fallback);
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(value)) {
      throw new ConfigError(`${name} must be dot-separated letters, digits, "-" or "_", got "${value}"`);
    }
    return value;
  },
};

/** Removes a password from a URL so it can appear in an error message. */
export function redactUrl(value: string): string {
  return value.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

export type DatabaseSsl = 'disable' | 'require' | 'verify-full';

/** Settings every app shares: where Postgres and NATS are, and the stream/subject names. */
export interface CoreConfig {
  /** DATABASE_URL with DATABASE_SSL applied (see `withDatabaseSsl`): what every pool and client connects with. */
  databaseUrl: string;
  /**
   * DATABASE_OWNER_URL (default: DATABASE_URL) with DATABASE_SSL applied: the role that owns the schema, used
   * only to create the database, migrate and grant DATABASE_URL's role its privileges.
   */
  databaseOwnerUrl: string;
  /** `disable` | `require` | `verify-full`; applied on top of DATABASE_URL. */
  databaseSsl: 'disable' | 'require' | 'verify-full';
  databaseSslCaFile?: string;
  natsUrl: string;
  natsUser?: string;
  natsPassword?: string;
  natsCreds?: string;
  streamName: string;
  subjectPrefix: string;
  /** JetStream replicas for the key stream when it is created: 1 on one server, 3 on a 3-node cluster. */
  streamReplicas: number;
}

export function readCoreConfig(env: Env = process.env): CoreConfig {
  const ssl = readEnv.string(env, 'DATABASE_SSL', 'disable');
  if (ssl !== 'disable' && ssl !== 'require' && ssl !== 'verify-full') {
    throw new ConfigError(`DATABASE_SSL must be disable, require or verify-full, got "${ssl}"`);
  }
  const caFile = readEnv.optionalString(env, 'DATABASE_SSL_CA_FILE');
  if (caFile !== undefined) {
    if (ssl !== 'verify-full') throw new ConfigError(`DATABASE_SSL_CA_FILE is only used with DATABASE_SSL=verify-full, got DATABASE_SSL=${ssl}`);
    try {
      accessSync(caFile, constants.R_OK);
    } catch {
      throw new ConfigError(`DATABASE_SSL_CA_FILE must name a readable file, got "${caFile}"`);
    }
  }
  const baseUrl = readEnv.url(env, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/keys', ['postgres', 'postgresql']);
  const ownerUrl = readEnv.url(env, 'DATABASE_OWNER_URL', baseUrl, ['postgres', 'postgresql']);
  if (ownerUrl !== baseUrl) checkOwnerUrl(baseUrl, ownerUrl);
  return {
    databaseUrl: withDatabaseSsl(baseUrl, ssl, caFile),
    databaseOwnerUrl: withDatabaseSsl(ownerUrl, ssl, caFile),
    databaseSsl: ssl,
    databaseSslCaFile: caFile,
    natsUrl: readEnv.url(env, 'NATS_URL', 'nats://127.0.0.1:4222', ['nats', 'tls', 'ws', 'wss']),
    natsUser: readEnv.optionalString(env, 'NATS_USER'),
    natsPassword: readEnv.optionalString(env, 'NATS_PASSWORD'),
    natsCreds: readEnv.optionalString(env, 'NATS_CREDS'),
    streamName: readEnv.subjectToken(env, 'KEYS_STREAM', 'KEYS'),
    subjectPrefix: readEnv.subjectToken(env, 'KEYS_SUBJECT_PREFIX', 'keys.v1'),
    streamReplicas: readEnv.int(env, 'KEYS_STREAM_REPLICAS', 1, { min: 1, max: 5 }),
  };
}

/** The owner must migrate the database the apps use, and grants go to a role named in DATABASE_URL. */
function checkOwnerUrl(appUrl: string, ownerUrl: string): void {
  const app = new URL(appUrl);
  const owner = new URL(ownerUrl);
  if (app.host !== owner.host || app.pathname !== owner.pathname) {
    throw new ConfigError(`DATABASE_OWNER_URL must name the same server and database as DATABASE_URL, got "${redactUrl(ownerUrl)}" and "${redactUrl(appUrl)}"`);
  }
  if (app.username === '' || owner.username === '') {
    throw new ConfigError('DATABASE_URL and DATABASE_OWNER_URL must both name a user when they differ');
  }
}

/**
 * Applies DATABASE_SSL to a postgres URL as connection-string parameters, so every pool and client built
 * from the URL (event store, LISTEN, advisory locks, database creation) connects the same way. `disable`
 * leaves the URL as given. node-postgres reads `sslmode=require` as verify-full; libpq's "encrypt, do not
 * verify the certificate" is its `no-verify`.
 */
export function withDatabaseSsl(url: string, ssl: DatabaseSsl, caFile?: string): string {
  if (ssl === 'disable') return url;
  const parsed = new URL(url);
  parsed.searchParams.set('sslmode', ssl === 'require' ? 'no-verify' : 'verify-full');
  if (caFile !== undefined) parsed.searchParams.set('sslrootcert', caFile);
  return parsed.toString();
}
