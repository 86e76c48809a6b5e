import { createTestContext, type TestContext } from '@keys/testing';
import { Client } from 'pg';
import { readCheckpoint, saveCheckpoint } from './checkpoints.table';
import { createDatabase } from './database';
import { databaseNameOf, ensureDatabaseExists } from './ensure-database';
import { nextAccountId, nextKeyId } from './id-sequences';
import { migrateToLatest } from './migrate';
import { eventStoreMigrations } from './migrations/static-migration.provider';

describe('starting against a fresh server', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext();
  });

  afterAll(async () => {
    await ctx?.dispose();
  });

  it('two processes migrating a fresh database at once both succeed', async () => {
    const first = createDatabase(ctx.databaseUrl, { max: 2 });
    const second = createDatabase(ctx.databaseUrl, { max: 2 });
    try {
      const results = await Promise.all([migrateToLatest(first), migrateToLatest(second)]);
      // Exactly one of them applied each migration; the other found nothing left to do.
      const applied = results.flatMap((r) => r.results ?? []).filter((r) => r.status === 'Success');
      expect(applied.map((r) => r.migrationName).sort()).toEqual(Object.keys(eventStoreMigrations).sort());
      expect((await migrateToLatest(first)).results).toEqual([]);

      const accountIds = [await nextAccountId(first), await nextAccountId(second)];
      expect(accountIds).toEqual([1, 2]);
      expect(await nextKeyId(first)).toBe(1);
      expect(await readCheckpoint(first, 'relay')).toBe(0);
      await saveCheckpoint(first, 'relay', 41);
      await saveCheckpoint(first, 'relay', 42);
      expect(await readCheckpoint(second, 'relay')).toBe(42);
    } finally {
      await Promise.all([first.destroy(), second.destroy()]);
    }
  });

  it('ensureDatabaseExists creates a missing database, also when several callers race', async () => {
    const url = new URL(ctx.databaseUrl);
    url.pathname = `${url.pathname}_extra`;
    const name = databaseNameOf(url.toString());
    const admin = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    try {
      const exists = async () =>
        (await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
      expect(await exists()).toBe(false);
      await Promise.all([1, 2, 3].map(() => ensureDatabaseExists(url.toString())));
      expect(await exists()).toBe(true);
      await ensureDatabaseExists(url.toString());
    } finally {
      await admin.query(`drop database if exists "${name}" with (force)`);
      await admin.end();
    }
  });
});
