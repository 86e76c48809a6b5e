import { createTestContext, type TestContext } from '@keys/testing';
import { type Kysely, sql } from 'kysely';
import type { AppendRequest } from './append';
import type { Database } from './database';
import { EventAppender, type InlineProjection } from './event-appender';
import { StreamVersionConflictError } from './event-store.errors';
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
    await sql`create table projection_probe (stream_id text not null, name text not null unique)`.execute(db);
  });

  afterAll(async () => {
    await db?.destroy();
    await ctx?.dispose();
  });

  // An inline projection with a unique column, so a request can be refused by the projection's statement.
  const probe: InlineProjection = {
    name: 'probe',
    async project(trx, envelopes) {
      const renames = envelopes.flatMap((e) => (e.type === 'KeyRenamed' ? [e] : []));
      await sql`insert into projection_probe select * from unnest(${renames.map((e) => e.streamId)}::text[], ${renames.map((e) => e.data.name)}::text[])`.execute(trx);
    },
  };
  const named = (keyId: number, name: string): AppendRequest => ({ ...renameRequest(keyId, 0), events: [renamed(keyId, name)] });

  it('a poison request among many good ones of other streams fails alone; the good ones commit', async () => {
    const seed = new EventAppender(db, { inlineProjections: [probe] });
    await seed.append(named(9000, 'taken'));
    await seed.close();

    // Each is refused by Postgres (or, since the fix, earlier by the appender's own checks).
    const poisons: Array<[string, AppendRequest]> = [
      ['NUL in data (jsonb)', { ...renameRequest(9001, 0), events: [renamed(9001, 'bad\u0000name')] }],
      ['lone surrogate in data (jsonb)', { ...renameRequest(9002, 0), events: [renamed(9002, 'bad\ud800')] }],
      ['NUL in metadata (jsonb)', { ...renameRequest(9003, 0), events: [renamed(9003, 'ok', { metadata: { actor: { type: 'operator', name: 'x' }, ipAddress: null, userAgent: 'curl\u0000', correlationId: 'c' } })] }],
      ['occurredAt beyond timestamptz', { ...renameRequest(9004, 0), events: [renamed(9004, 'ok', { occurredAt: '-005000-01-01T00:00:00.000Z' })] }],
      ['account id beyond bigint', { ...renameRequest(9005, 0), accountId: 2 ** 64 }],
      ['duplicate projected name (unique)', named(9006, 'taken')],
    ];

    const head = await headPosition(db);
    const appender = new EventAppender(db, { inlineProjections: [probe] });
    const good = Array.from({ length: 240 }, (_, i) => 10_000 + i);
    // Queued in the same tick, so poisons and good requests share one batch and would share one INSERT.
    const goodResults = good.map((keyId, i) => {
      const result = appender.append(named(keyId, `good ${keyId}`));
      return { result, poison: i % 40 === 0 ? poisons[i / 40] : undefined };
    });
    const poisonResults = goodResults.flatMap(({ poison }) => (poison ? [appender.append(poison[1])] : []));
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
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from projection_probe where name like 'good %'`.execute(db);
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

  it('stores stream ids, types and documents with quotes, backslashes, commas, braces and other scripts exactly, in one batch', async () => {
    const appender = new EventAppender(db);
    const awkward = ['a"b', 'c\\d', 'e,f', '{g}', 'NULL', ' h ', 'ünï 日本 🔑', '\\"', ''];
    const requests: AppendRequest[] = awkward.map((text, i) => ({
      streamId: `odd-${i}-${text}`,
      expectedVersion: 0,
      accountId: i % 2 === 0 ? null : 7,
      events: [{ type: `Odd"${text}`, data: { text, nested: { list: [text, 1, null], quote: '"', slash: '\\' } }, metadata: { actor: { type: 'system', name: text } } } as never],
    }));
    const appended = await Promise.all(requests.map((request) => appender.append(request)));
    await appender.close();
    // One transaction, so one batch through the array literals.
    const positions = appended.map(([e]) => e.position);
    const { rows } = await sql<{ n: number }>`select count(distinct xmin::text)::int as n from events where position = any(${positions}::int8[])`.execute(db);
    expect(rows[0].n).toBe(1);
    for (const [i, request] of requests.entries()) {
      const [stored] = await readStream(db, request.streamId);
      expect(stored).toMatchObject({ streamId: request.streamId, type: request.events[0].type, data: request.events[0].data, metadata: request.events[0].metadata });
      expect(stored).toEqual(appended[i][0]);
      const account = await sql<{ account_id: number | null }>`select account_id from events where position = ${stored.position}`.execute(db);
      expect(account.rows[0].account_id).toBe(request.accountId);
    }
    expect(await verifyChain(db)).toMatchObject({ ok: true });
  });

  it('appendAll commits several streams together, or none of them when one check fails', async () => {
    const appender = new EventAppender(db, { inlineProjections: [probe] });
    try {
      const both = await appender.appendAll([named(30_000, 'pair a'), named(30_001, 'pair b')]);
      expect(both.map((envelopes) => envelopes.map((e) => e.streamId))).toEqual([['key-30000'], ['key-30001']]);
      expect(both[1][0].position).toBe(both[0][0].position + 1);

      const refused = appender.appendAll([named(30_002, 'lone a'), { ...renameRequest(30_000, 0), events: [renamed(30_000, 'late')] }]);
      await expect(refused).rejects.toBeInstanceOf(StreamVersionConflictError);
      expect(await readStream(db, 'key-30002')).toEqual([]);
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from projection_probe where name in ('lone a', 'late')`.execute(db);
      expect(rows[0].n).toBe(0);
    } finally {
      await appender.close();
    }
  });
});
