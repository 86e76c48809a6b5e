import { createTestContext, type TestContext } from '@keys/testing';
import { type Kysely, sql } from 'kysely';
import { appendToStream } from './append';
import type { Database } from './database';
import { GENESIS_HASH } from './events.table';
import { computeEventHash } from './hash-chain';
import { readAllAfter } from './read';
import { openMigratedStore, renameRequest } from './store-fixture.spec-helper';
import { verifyChain } from './verify-chain';

describe('hash chain verification (docs/audit.md)', () => {
  let ctx: TestContext;
  let db: Kysely<Database>;

  beforeAll(async () => {
    ctx = await createTestContext();
    db = await openMigratedStore(ctx.databaseUrl, 2);
    for (let key = 1; key <= 5; key++) {
      await db.transaction().execute((trx) => appendToStream(trx, renameRequest(key, 0, 4)));
    }
  });

  afterAll(async () => {
    await db?.destroy();
    await ctx?.dispose();
  });

  // Only a superuser can do this: it is what an attacker with database access would do.
  const tamper = (statement: ReturnType<typeof sql>) =>
    db.connection().execute(async (conn) => {
      await sql`alter table events disable trigger all`.execute(conn);
      try {
        await statement.execute(conn);
      } finally {
        await sql`alter table events enable trigger all`.execute(conn);
      }
    });

  it('accepts an untouched store and reports its head', async () => {
    const events = await readAllAfter(db, 0, 100);
    expect(events[0].prevHash).toBe(GENESIS_HASH);
    const progress: Array<[number, number]> = [];
    const result = await verifyChain(db, { batchSize: 8, onProgress: (c, h) => progress.push([c, h]) });
    expect(result).toEqual({ ok: true, count: 20, headPosition: 20, headHash: events[19].hash });
    expect(progress).toEqual([
      [8, 20],
      [16, 20],
      [20, 20],
    ]);
    expect(await verifyChain(db, { from: 12 })).toMatchObject({ ok: true, count: 9, headPosition: 20 });
  });

  it('names the first position whose content was changed', async () => {
    await tamper(sql`update events set data = '{"keyId":2,"name":"forged"}' where position = 7`);
    expect(await verifyChain(db)).toEqual({ ok: false, position: 7, reason: 'hash_mismatch', count: 6 });
    expect(await verifyChain(db, { from: 8 })).toMatchObject({ ok: true, count: 13 });
  });

  it('catches a changed event whose own hash was recomputed, at the next link', async () => {
    const [row] = await readAllAfter(db, 6, 1);
    await tamper(sql`update events set hash = ${computeEventHash(row.prevHash, row)} where position = 7`);
    expect(await verifyChain(db)).toEqual({ ok: false, position: 8, reason: 'prev_hash_mismatch', count: 7 });
  });

  it('catches a removed event', async () => {
    await tamper(sql`delete from events where position = 15`);
    expect(await verifyChain(db, { from: 9 })).toEqual({ ok: false, position: 15, reason: 'position_gap', count: 6 });
  });
});
