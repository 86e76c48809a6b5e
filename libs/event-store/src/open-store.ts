import type { Kysely } from 'kysely';
import { createDatabase, type CreateDatabaseOptions, type Database } from './database';
import { ensureDatabaseExists } from './ensure-database';
import { migrateToLatest } from './migrate';

/** What every app does at start: create the database if missing, migrate it, and open a pool. */
export async function openEventStore(url: string, options: CreateDatabaseOptions = {}): Promise<Kysely<Database>> {
  await ensureDatabaseExists(url);
  const db = createDatabase(url, options);
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}
