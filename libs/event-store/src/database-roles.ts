import { type Kysely, sql } from 'kysely';
import { quoteIdentifier } from './ensure-database';

/**
 * What the app role may do to each table, and nothing more. The events table gets no UPDATE, DELETE or
 * TRUNCATE: its triggers refuse those, and without ownership the app role cannot disable or drop them.
 * UPDATE elsewhere is for upserts (`on conflict do update`) and the projector's `select ... for update`.
 * The Kysely bookkeeping tables are read-only: an app that finds the schema current runs no migration.
 */
export const APP_TABLE_PRIVILEGES: Readonly<Record<string, readonly string[]>> = {
  events: ['SELECT', 'INSERT'],
  key_lookup: ['SELECT', 'INSERT', 'UPDATE'],
  checkpoints: ['SELECT', 'INSERT', 'UPDATE'],
  keys: ['SELECT', 'INSERT', 'UPDATE'],
  security_log: ['SELECT', 'INSERT'],
  key_usage: ['SELECT', 'INSERT', 'UPDATE'],
  kysely_migration: ['SELECT'],
  kysely_migration_lock: ['SELECT'],
};

/** Sequences the app draws ids from (nextval needs USAGE; setval would need UPDATE, never granted). */
export const APP_SEQUENCES: readonly string[] = ['account_id_seq', 'key_id_seq'];

/** Functions the app calls directly (trigger functions run as part of the owner's triggers). */
export const APP_FUNCTIONS: readonly string[] = ['append_batch_state(bigint, text[], uuid[])'];

// Two processes granting at once would collide on the same catalog rows ("tuple concurrently updated").
const GRANT_LOCK_KEY = 7_362_010_011;

/** The role a postgres:// URL logs in as, or undefined when it names none (libpq then uses the OS user). */
export function roleOfUrl(url: string): string | undefined {
  const user = decodeURIComponent(new URL(url).username);
  return user === '' ? undefined : user;
}

/**
 * Gives `appRole` exactly the privileges in APP_TABLE_PRIVILEGES, APP_SEQUENCES and APP_FUNCTIONS on the
 * current schema, run by the owner after migrating. Revokes first, so a wider grant made by hand is
 * narrowed again on the next start; idempotent otherwise. No default privileges: a table added by a later
 * migration stays closed to the app until it is listed here.
 */
export async function grantAppRole(ownerDb: Kysely<any>, appRole: string): Promise<void> {
  const role = sql.raw(quoteIdentifier(appRole));
  await ownerDb.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${sql.lit(GRANT_LOCK_KEY)})`.execute(trx);
    await sql`revoke all on all tables in schema public from ${role}`.execute(trx);
    await sql`revoke all on all sequences in schema public from ${role}`.execute(trx);
    await sql`revoke all on all functions in schema public from ${role}`.execute(trx);
    await sql`grant usage on schema public to ${role}`.execute(trx);
    for (const [table, privileges] of Object.entries(APP_TABLE_PRIVILEGES)) {
      await sql`grant ${sql.raw(privileges.join(', '))} on table ${sql.table(table)} to ${role}`.execute(trx);
    }
    for (const sequence of APP_SEQUENCES) {
      await sql`grant usage on sequence ${sql.table(sequence)} to ${role}`.execute(trx);
    }
    for (const fn of APP_FUNCTIONS) {
      await sql`grant execute on function ${sql.raw(fn)} to ${role}`.execute(trx);
    }
  });
}
