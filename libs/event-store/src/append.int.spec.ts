import { randomUUID } from 'node:crypto';
import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { type Kysely, sql } from 'kysely';
import { appendToStream } from './append';
import type { Database } from './database';
import { EventAppender } from './event-appender';
import { EventAppenderClosedError, InvalidAppendRequestError, StreamVersionConflictError } from './event-store.errors';
import { headPosition, readStream } from './read';
import { openMigratedStore, renamed, renameRequest } from './store-fixture.spec-helper';
import { verifyChain } from './verify-chain';

describe('appending', () => {
  let ctx: TestContext;
  let db: Kysely<Database>;

  beforeAll(async () => {
    ctx = await createTestContext();
    db = await openMigratedStore(ctx.databaseUrl, 4);
    await sql`create table side_effects (name text primary key)`.execute(db);
    await sql`create table deferred_check (id int, constraint deferred_unique unique (id) deferrable initially deferred)`.execute(
      db,
    );
  });

  afterAll(async () => {
    await db?.destroy();
    await ctx?.dispose();
  });

  const append = (request: Parameters<typeof appendToStream>[1]) =>
    db.transaction().execute((trx) => appendToStream(trx, request));
  const sideEffects = () =>
    sql<{ name: string }>`select name from side_effects order by name`.execute(db).then((r) => r.rows.map((x) => x.name));

  it('assigns consecutive positions and versions, and reads back exactly what it returned', async () => {
    const head = await headPosition(db);
    const written = await append({
      streamId: 'key-1',
      expectedVersion: 0,
      accountId: 7,
      events: [
        renamed(1, 'a', { occurredAt: '2026-01-02T03:04:05.678+02:00' }),
        renamed(1, 'b', { eventId: randomUUID().toUpperCase() }),
      ],
    });
    expect(written.map((e) => [e.position, e.streamVersion])).toEqual([
      [head + 1, 1],
      [head + 2, 2],
    ]);
    expect(written[0].occurredAt).toBe('2026-01-02T01:04:05.678Z');
    expect(await readStream(db, 'key-1')).toEqual(written);
    expect(await verifyChain(db)).toMatchObject({ ok: true, count: head + 2 });
  });

  it('refuses a wrong expectedVersion with a typed conflict and writes nothing', async () => {
    await append(renameRequest(2, 0, 2));
    const head = await headPosition(db);

    for (const [expected, streamId] of [
      [1, 'key-2'],
      [0, 'key-2'],
      [3, 'key-2'],
    ] as const) {
      const error = await append({ ...renameRequest(2, expected), streamId }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StreamVersionConflictError);
      expect(error).toMatchObject({ streamId: 'key-2', expected, actual: 2 });
    }
    await expect(append(renameRequest(3, 1))).rejects.toMatchObject({ streamId: 'key-3', expected: 1, actual: 0 });
    expect(await headPosition(db)).toBe(head);
    expect(await readStream(db, 'key-2')).toHaveLength(2);
  });

  it('in one EventAppender batch, a failing request fails alone and its afterAppend write is rolled back', async () => {
    const appender = new EventAppender(db);
    const [existing] = await readStream(db, 'key-1');
    const countInTrx: number[] = [];

    // Queued in the same tick, so they share one batch and one transaction.
    const results = await Promise.allSettled([
      appender.append(renameRequest(10, 0), {
        afterAppend: async (trx, envelopes) => {
          await sql`insert into side_effects values ('a')`.execute(trx);
          const { rows } = await sql<{ n: number }>`select count(*) as n from events where event_id = ${envelopes[0].eventId}`.execute(
            trx,
          );
          countInTrx.push(rows[0].n);
        },
      }),
      appender.append(renameRequest(2, 0), {
        afterAppend: async (trx) => void (await sql`insert into side_effects values ('b')`.execute(trx)),
      }),
      appender.append(renameRequest(11, 0), {
        afterAppend: async (trx) => {
          await sql`insert into side_effects values ('c')`.execute(trx);
          throw new Error('hook failed');
        },
      }),
      appender.append({ ...renameRequest(12, 0), events: [renamed(12, 'dup', { eventId: existing.eventId })] }),
      appender.append(renameRequest(13, 0, 2), {
        afterAppend: async (trx) => void (await sql`insert into side_effects values ('e')`.execute(trx)),
      }),
    ]);
    await appender.close();

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(StreamVersionConflictError);
    expect((results[2] as PromiseRejectedResult).reason).toEqual(new Error('hook failed'));
    expect((results[3] as PromiseRejectedResult).reason).toBeInstanceOf(InvalidAppendRequestError);
    expect(countInTrx).toEqual([1]); // the hook saw its own request's uncommitted events
    expect(await sideEffects()).toEqual(['a', 'e']);
    for (const stream of ['key-11', 'key-12']) expect(await readStream(db, stream)).toEqual([]);

    // Failed requests consume no positions: the survivors are contiguous and the chain holds.
    const a = (results[0] as PromiseFulfilledResult<{ position: number }[]>).value;
    const e = (results[4] as PromiseFulfilledResult<{ position: number }[]>).value;
    expect(e.map((x) => x.position)).toEqual([a[0].position + 1, a[0].position + 2]);
    expect(await readStream(db, 'key-13')).toEqual(e);
    expect(await verifyChain(db)).toMatchObject({ ok: true, headPosition: a[0].position + 2 });

    await expect(appender.append(renameRequest(14, 0))).rejects.toBeInstanceOf(EventAppenderClosedError);
  });

  it('an EventAppender batch that waited for the append lock sees what the holder committed meanwhile', async () => {
    // The batch takes the lock and reads head, versions and event ids in one statement; a read from a snapshot
    // taken before the lock was granted would reuse the holder's position and miss its stream version.
    const holder = await db.startTransaction().execute();
    const [held] = await appendToStream(holder, renameRequest(30, 0));
    const appender = new EventAppender(db);
    const results = Promise.allSettled([
      appender.append(renameRequest(30, 1)),
      appender.append(renameRequest(31, 0)),
      appender.append({ ...renameRequest(32, 0), events: [renamed(32, 'dup', { eventId: held.eventId })] }),
    ]);
    const waitingForLock = () =>
      sql<{ n: number }>`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`
        .execute(db)
        .then((r) => r.rows[0].n === 1);
    await waitFor(waitingForLock);
    await holder.commit().execute();

    const [after, other, duplicate] = await results;
    await appender.close();
    expect(after).toMatchObject({ status: 'fulfilled', value: [{ position: held.position + 1, streamVersion: 2 }] });
    expect(other).toMatchObject({ status: 'fulfilled', value: [{ position: held.position + 2 }] });
    expect(duplicate.status === 'rejected' && duplicate.reason).toBeInstanceOf(InvalidAppendRequestError);
    expect(await verifyChain(db)).toMatchObject({ ok: true, headPosition: held.position + 2 });
  });

  it('when its COMMIT fails, writes the batch again with each request alone: only the culprit is rejected', async () => {
    const appender = new EventAppender(db);
    const head = await headPosition(db);
    const results = await Promise.allSettled([
      appender.append(renameRequest(20, 0)),
      // The deferred unique constraint is checked only at COMMIT.
      appender.append(renameRequest(21, 0), {
        afterAppend: async (trx) => void (await sql`insert into deferred_check values (1), (1)`.execute(trx)),
      }),
    ]);
    await appender.close();
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(await headPosition(db)).toBe(head + 1);
    expect(await readStream(db, 'key-21')).toEqual([]);

    // The appender's connections went back to the pool in a usable state.
    expect(await append(renameRequest(20, 1))).toHaveLength(1);
  });
});
