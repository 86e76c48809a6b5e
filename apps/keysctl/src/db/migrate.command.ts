import { createDatabase, databaseNameOf, ensureDatabaseExists, grantAppRole, migrateToLatest, roleOfUrl } from '@keys/event-store';
import { readCoreConfig } from '@keys/platform';
import { type Output, parseOptions } from '../cli';
import { inspectStore, missingDatabase, ownerUrlVariable } from './store-readiness';

/**
 * What every app does at start (libs/event-store prepareEventStore), as an explicit step for deploy jobs and
 * operators: migrate as the owner and grant DATABASE_URL's role its privileges. Creates the database only with
 * --create-database, so a mistyped name is reported, not created.
 */
export async function migrateDatabase(args: string[], out: Output): Promise<number> {
  const values = parseOptions(args, { 'create-database': { type: 'boolean', default: false } });
  const config = readCoreConfig();
  const ownerUrl = config.databaseOwnerUrl;
  const database = databaseNameOf(ownerUrl);
  const state = await inspectStore(ownerUrl, ownerUrlVariable());
  let created = false;
  if (state.kind === 'missing') {
    if (!values['create-database']) throw missingDatabase(ownerUrl, ownerUrlVariable());
    await ensureDatabaseExists(ownerUrl);
    created = true;
    out.log(`created database "${database}"`);
  }
  const owner = createDatabase(ownerUrl, { max: 1 });
  try {
    const result = await migrateToLatest(owner);
    const applied = (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    const appRole = roleOfUrl(config.databaseUrl);
    const grantedTo = appRole !== undefined && appRole !== roleOfUrl(ownerUrl) ? appRole : null;
    if (grantedTo !== null) await grantAppRole(owner, grantedTo);
    const lines = [
      created ? `database "${database}" created` : `database "${database}"`,
      applied.length === 0 ? 'schema already up to date' : `applied ${applied.length} migration(s):\n${applied.map((m) => `  ${m}`).join('\n')}`,
    ];
    if (grantedTo !== null) lines.push(`granted role "${grantedTo}" the app privileges`);
    out.result({ database, created, applied, grantedTo }, lines.join('\n'));
    return 0;
  } finally {
    await owner.destroy();
  }
}
