import type { Kysely } from 'kysely';
import { createDatabase, type CreateDatabaseOptions, type Database } from './database';
import { grantAppRole, roleOfUrl } from './database-roles';
import { ensureDatabaseExists } from './ensure-database';
import { migrateToLatest } from './migrate';

export interface OpenEventStoreOptions extends CreateDatabaseOptions {
  /**
   * URL of the role that owns the schema (DATABASE_OWNER_URL): it creates the database, migrates and grants
   * the role of `url` what the apps need. Defaults to `url` (one role does everything, local development).
   */
  ownerUrl?: string;
}

/** What every app does at start: create the database if missing, migrate it, and open a pool. */
export async function openEventStore(url: string, options: OpenEventStoreOptions = {}): Promise<Kysely<Database>> {
  const { ownerUrl = url, ...poolOptions } = options;
  if (ownerUrl !== url) {
    await prepareEventStore(ownerUrl, url);
    return createDatabase(url, poolOptions);
  }
  await ensureDatabaseExists(url);
  const db = createDatabase(url, poolOptions);
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}

/**
 * As the owner: creates the database if missing, migrates it, and when `appUrl` logs in as another role,
 * grants that role its privileges (database-roles.ts). Opens only a short-lived owner connection.
 */
export async function prepareEventStore(ownerUrl: string, appUrl: string): Promise<void> {
  await ensureDatabaseExists(ownerUrl);
  const owner = createDatabase(ownerUrl, { max: 1 });
  try {
    await migrateToLatest(owner);
    const appRole = roleOfUrl(appUrl);
    if (appRole !== undefined && appRole !== roleOfUrl(ownerUrl)) await grantAppRole(owner, appRole);
  } finally {
    await owner.destroy();
  }
}
