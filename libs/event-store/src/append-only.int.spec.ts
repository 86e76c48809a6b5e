import { createTestContext, type TestContext } from '@keys/testing';
import { type Kysely, sql } from 'kysely';
import { appendToStream } from './append';
import type { Database } from './database';
import { openMigratedStore, renameRequest } from './store-fixture.spec-helper';

describe('events table is append-only (docs/audit.md)', () => {
  let ctx: TestContext;
  let db: Kysely<Database>;

  beforeAll(async () => {
    ctx = await createTestContext();
    db = await openMigratedStore(ctx.databaseUrl, 2);
    await db.transaction().execute((trx) => appendToStream(trx, renameRequest(1, 0, 2)));
  });

  afterAll(async () => {
    await db?.destroy();
    await ctx?.dispose();
  });

  const snapshot = () =>
    sql<{ position: number; data: unknown; hash: string }>`select position, data, hash from events order by position`
      .execute(db)
      .then((r) => r.rows);

  it.each([
    ['UPDATE', sql`update events set data = '{"keyId":1,"name":"forged"}' where position = 1`],
    ['DELETE', sql`delete from events where position = 2`],
    ['TRUNCATE', sql`truncate events`],
  ])('refuses %s and leaves the rows as they were', async (operation, statement) => {
    const before = await snapshot();
    await expect(statement.execute(db)).rejects.toThrow(`events is append-only: ${operation} refused`);
    expect(await snapshot()).toEqual(before);
    expect(before).toHaveLength(2);
  });
});
