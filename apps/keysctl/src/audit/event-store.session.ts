import { type Kysely, sql } from 'kysely';
import { type Database, createDatabase } from '@keys/event-store';
import { readCoreConfig, redactUrl } from '@keys/platform';

/**
 * Opens the event store named by DATABASE_URL as it is: unlike the apps, audit and replay never create or
 * migrate a database, so a mistyped URL fails instead of "verifying" a fresh, empty store.
 */
export async function openExistingEventStore(url = readCoreConfig().databaseUrl): Promise<Kysely<Database>> {
  const db = createDatabase(url, { max: 2 });
  try {
    await sql`select 1 from events limit 1`.execute(db);
  } catch (err) {
    await db.destroy();
    const code = (err as { code?: string }).code;
    // 3D000: no such database; 42P01: no events table (never migrated).
    if (code === '3D000' || code === '42P01') {
      throw new Error(`no event store at ${redactUrl(url)}: ${(err as Error).message}`);
    }
    throw err;
  }
  return db;
}
