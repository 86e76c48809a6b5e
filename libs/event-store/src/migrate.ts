import { type Kysely, type MigrationResultSet, Migrator } from 'kysely';
import { MigrationFailedError } from './event-store.errors';
import { StaticMigrationProvider } from './migrations/static-migration.provider';

/**
 * Brings the schema to the latest version. Safe when several processes start at once: Kysely's
 * Migrator holds a session advisory lock while it runs, and tolerates concurrent creation of its own
 * bookkeeping tables (proven by migrate.int.spec.ts).
 */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider() });
  const result = await migrator.migrateToLatest();
  if (result.error !== undefined) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new MigrationFailedError(failed?.migrationName, result.error);
  }
  return result;
}
