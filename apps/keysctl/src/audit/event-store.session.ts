import type { Kysely } from 'kysely';
import { type Database, createDatabase } from '@keys/event-store';
import { readCoreConfig } from '@keys/platform';
import { type UrlVariable, requireReadyStore } from '../db/store-readiness';

/**
 * Opens the event store named by DATABASE_URL as it is: keysctl never creates or migrates a database unless
 * asked (`keysctl db migrate`), so a mistyped URL fails instead of "verifying" a fresh, empty store.
 */
export async function openExistingEventStore(url = readCoreConfig().databaseUrl, variable: UrlVariable = 'DATABASE_URL'): Promise<Kysely<Database>> {
  await requireReadyStore(url, variable);
  return createDatabase(url, { max: 2 });
}
