import { createTestContext, type TestContext } from '@keys/testing';
import type { Kysely } from 'kysely';
import { appendToStream } from './append';
import { createDatabase, type Database } from './database';
import { EventAppender } from './event-appender';
import { readAllAfter } from './read';
import { openMigratedStore, renameRequest } from './store-fixture.spec-helper';
import { verifyChain } from './verify-chain';

const WRITERS = 8;
const STREAMS_PER_WRITER = 320;
/** Events per stream cycle through 1, 2, 3: 2 on average, ≈ 5,100 events in all. */
const eventsFor = (stream: number) => (stream % 3) + 1;
const IN_FLIGHT_PER_APPENDER = 16;

describe('global order without holes under concurrent writers (docs/events.md)', () => {
  let ctx: TestContext;
  let writerDb: Kysely<Database>;
  let readerDb: Kysely<Database>;

  beforeAll(async () => {
    ctx = await createTestContext();
    writerDb = await openMigratedStore(ctx.databaseUrl, 10);
    readerDb = createDatabase(ctx.databaseUrl, { max: 1 });
  });

  afterAll(async () => {
    await Promise.all([writerDb?.destroy(), readerDb?.destroy()]);
    await ctx?.dispose();
  });

  it('a reader following from 0 sees every event once, in order, never skipping one', async () => {
    const keyOf = (writer: number, stream: number) => writer * 100_000 + stream;

    // Writers 0–3 go through their own EventAppender (group commit), 4–7 through plain transactions.
    const viaAppender = async (writer: number) => {
      const appender = new EventAppender(writerDb);
      let next = 0;
      const lane = async () => {
        while (next < STREAMS_PER_WRITER) {
          const stream = next++;
          await appender.append(renameRequest(keyOf(writer, stream), 0, eventsFor(stream)));
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT_PER_APPENDER }, lane));
      await appender.close();
    };
    const viaTransactions = async (writer: number) => {
      for (let stream = 0; stream < STREAMS_PER_WRITER; stream++) {
        await writerDb
          .transaction()
          .execute((trx) => appendToStream(trx, renameRequest(keyOf(writer, stream), 0, eventsFor(stream))));
      }
    };

    let writing = true;
    const writers = Promise.all(
      Array.from({ length: WRITERS }, (_, w) => (w < WRITERS / 2 ? viaAppender(w) : viaTransactions(w))),
    ).finally(() => {
      writing = false;
    });

    const seen: string[] = [];
    let last = 0;
    let violation: string | null = null;
    let readsWhileWriting = 0;
    const reader = (async () => {
      for (;;) {
        const stillWriting = writing; // read before the query: an empty batch after that means done
        const batch = await readAllAfter(readerDb, last, 1000);
        if (stillWriting && batch.length > 0) readsWhileWriting++;
        for (const event of batch) {
          if (event.position !== last + 1 && violation === null) {
            violation = `read position ${event.position} right after ${last}`;
          }
          last = event.position;
          seen.push(event.eventId);
        }
        if (batch.length === 0) {
          if (!stillWriting) return;
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      }
    })();

    await Promise.all([writers, reader]);

    const expectedTotal = WRITERS * Array.from({ length: STREAMS_PER_WRITER }, (_, s) => eventsFor(s)).reduce((a, b) => a + b);
    expect(expectedTotal).toBeGreaterThanOrEqual(5000);
    expect(violation).toBeNull();
    expect(readsWhileWriting).toBeGreaterThan(10); // it really followed the writers
    const table = await writerDb.selectFrom('events').select('event_id').orderBy('position').execute();
    expect(table).toHaveLength(expectedTotal);
    expect(seen).toEqual(table.map((r) => r.event_id));
    expect(new Set(seen).size).toBe(expectedTotal);
    expect(await verifyChain(writerDb)).toMatchObject({ ok: true, count: expectedTotal, headPosition: expectedTotal });
  });
});
