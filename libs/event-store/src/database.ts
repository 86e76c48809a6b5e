import { Kysely, PostgresDialect } from 'kysely';
import { Pool, TypeOverrides } from 'pg';
import type { CheckpointsTable } from './checkpoints.table';
import type { EventsTable } from './events.table';
import { UnsafeBigintError } from './event-store.errors';

/**
 * The one database type of every app: the store's tables here; the libraries that own other tables of the
 * same database add them to this interface by declaration merging (`declare module '@keys/event-store'`), so a
 * single `Kysely<Database>` reaches every table without casts.
 */
export interface Database {
  events: EventsTable;
  checkpoints: CheckpointsTable;
}

const INT8_OID = 20;

/**
 * int8 (bigint) columns and count(*) come back as JS numbers, not strings: positions, account and key
 * ids stay far below 2^53, and numbers keep the envelope contract (`position: number`) free of
 * conversions. A value outside the safe range fails loudly instead of silently losing precision.
 */
function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new UnsafeBigintError(value);
  return n;
}

function typeOverrides(): TypeOverrides {
  // Per pool, not pg's global registry, so other pg users in the process are unaffected.
  const overrides = new TypeOverrides();
  overrides.setTypeParser(INT8_OID, parseInt8);
  return overrides;
}

export interface CreateDatabaseOptions {
  /** Pool size; defaults to 10. */
  max?: number;
}

export function createDatabase(url: string, options: CreateDatabaseOptions = {}): Kysely<Database> {
  const pool = new Pool({
    connectionString: url,
    max: options.max ?? 10,
    types: typeOverrides(),
    // Fail fast while Postgres is away (the HTTP edge answers 503) instead of queueing forever.
    connectionTimeoutMillis: 3000,
  });
  // A client that loses its connection (idle or checked out) must not crash the process: its queries
  // reject, the pool discards it and opens a new one when Postgres is back.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
