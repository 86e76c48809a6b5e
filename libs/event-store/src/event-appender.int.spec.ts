import { createTestContext, type TestContext } from '@keys/testing';
import { type Insertable, type Kysely, sql } from 'kysely';
import type { AppendRequest } from './append';
import type { Database } from './database';
import { type AppendOptions, EventAppender } from './event-appender';
import type { KeyIndexTable } from './key-index.table';
import { headPosition, readStream } from './read';
import { openMigratedStore, renamed, renameRequest } from './store-fixture.spec-helper';
import { verifyChain } from './verify-chain';

// Group commit puts many tenants' appends into one statement: a request Postgres refuses must fail alone.

describe('EventAppender isolation', () => {
  let ctx: TestContext;
  let db: Kysely<Database>;

  beforeAll(async () => {
    ctx = await createTestContext();
    db = await openMigratedStore(ctx.databaseUrl, 4);
  });

  afterAll(async () => {
    await db?.destroy();
    await ctx?.dispose();
  });

  const indexRow = (keyId: number, hash: string): Insertable<KeyIndexTable> => ({
    key_id: keyId,
    account_id: 1,
    key_type: 'proxy' as const,
    hash,
    prefix: 'ms-abcde',
    name: 'n',
    active: true,
    expires_at: null,
    expired: false,
    deleted: false,
    created_at: '2030-01-01T00:00:00Z',
    updated_at: '2030-01-01T00:00:00Z',
    version: 1,
  });

  it('a poison request among many good ones of other streams fails alone; the good ones commit', async () => {
    const seed = new EventAppender(db);
    await seed.append(renameRequest(9000, 0), { keyIndex: [indexRow(9000, 'taken-hash')] });
    await seed.close();

    // Each is refused by Postgres (or, since the fix, earlier by the appender's own checks).
    const poisons: Array<[string, AppendRequest, AppendOptions?]> = [
      ['NUL in data (jsonb)', { ...renameRequest(9001, 0), events: [renamed(9001, 'bad\u0000name')] }],
      ['lone surrogate in data (jsonb)', { ...renameRequest(9002, 0), events: [renamed(9002, 'bad\ud800')] }],
      ['NUL in metadata (jsonb)', { ...renameRequest(9003, 0), events: [renamed(9003, 'ok', { metadata: { actor: { type: 'operator', name: 'x' }, ipAddress: null, userAgent: 'curl\u0000', correlationId: 'c' } })] }],
      ['occurredAt beyond timestamptz', { ...renameRequest(9004, 0), events: [renamed(9004, 'ok', { occurredAt: '-005000-01-01T00:00:00.000Z' })] }],
      ['account id beyond bigint', { ...renameRequest(9005, 0), accountId: 2 ** 64 }],
      ['duplicate key_index hash (unique)', renameRequest(9006, 0), { keyIndex: [indexRow(9006, 'taken-hash')] }],
    ];

    const head = await headPosition(db);
    const appender = new EventAppender(db);
    const good = Array.from({ length: 240 }, (_, i) => 10_000 + i);
    // Queued in the same tick, so poisons and good requests share one batch and would share one INSERT.
    const goodResults = good.map((keyId, i) => {
      const result = appender.append(renameRequest(keyId, 0), { keyIndex: [indexRow(keyId, `hash-${keyId}`)] });
      return { result, poison: i % 40 === 0 ? poisons[i / 40] : undefined };
    });
    const poisonResults = goodResults.flatMap(({ poison }) => (poison ? [appender.append(poison[1], poison[2])] : []));
    const [settledGood, settledPoison] = await Promise.all([Promise.allSettled(goodResults.map((r) => r.result)), Promise.allSettled(poisonResults)]);
    await appender.close();

    expect(settledGood.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(settledPoison.map((r) => r.status)).toEqual(poisons.map(() => 'rejected'));
    const reasons = settledPoison.map((r) => (r.status === 'rejected' ? (r.reason as Error) : null));
    // Strings jsonb/text cannot hold and ids beyond bigint are refused before any SQL; the rest by Postgres.
    expect(reasons.slice(0, 3).concat(reasons[4]).map((e) => e?.name)).toEqual(Array(4).fill('InvalidAppendRequestError'));
    expect(reasons[3]).toMatchObject({ code: expect.stringMatching(/^22/) }); // data exception: no such timestamptz
    expect(reasons[5]).toMatchObject({ code: '23505' }); // unique violation
    expect(await headPosition(db)).toBe(head + good.length);
    for (const keyId of [9001, 9002, 9003, 9004, 9005, 9006]) expect(await readStream(db, `key-${keyId}`)).toEqual([]);
    expect(await verifyChain(db)).toMatchObject({ ok: true });
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from key_index where key_id >= 10000`.execute(db);
    expect(rows[0].n).toBe(good.length);
  });

  it('a batch with nothing wrong still commits in one transaction (the fast path)', async () => {
    const appender = new EventAppender(db);
    await Promise.all(Array.from({ length: 50 }, (_, i) => appender.append(renameRequest(20_000 + i, 0))));
    await appender.close();
    // Rows written by one transaction share its xmin.
    const { rows } = await sql<{ n: number }>`select count(distinct xmin::text)::int as n from events where stream_id ~ '^key-200[0-4][0-9]$'`.execute(db);
    expect(rows[0].n).toBe(1);
  });
});
