import type { Kysely } from 'kysely';
import type { EventEnvelope } from '@keys/domain';
import type { Database } from './database';
import type { EventRow } from './events.table';

/** An envelope as stored: plus the account it belongs to and its links in the hash chain. */
export type StoredEvent = EventEnvelope & { accountId: number | null; prevHash: string; hash: string };

export function toEnvelope(row: EventRow): EventEnvelope {
  return {
    eventId: row.event_id,
    type: row.type,
    position: row.position,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    occurredAt: row.occurred_at.toISOString(),
    data: row.data,
    metadata: row.metadata,
  } as EventEnvelope;
}

export function toStoredEvent(row: EventRow): StoredEvent {
  return { ...toEnvelope(row), accountId: row.account_id, prevHash: row.prev_hash, hash: row.hash };
}

/** Every event of one stream, in stream order; [] when the stream does not exist. */
export async function readStream(db: Kysely<Database>, streamId: string): Promise<EventEnvelope[]> {
  const rows = await db
    .selectFrom('events')
    .selectAll()
    .where('stream_id', '=', streamId)
    .orderBy('stream_version')
    .execute();
  return rows.map(toEnvelope);
}

/**
 * Up to `limit` events with a position greater than `position`, ascending. Appends are serialized
 * until commit, so a reader that resumes from its last position never skips one.
 */
export async function readAllAfter(
  db: Kysely<Database>,
  position: number,
  limit: number,
): Promise<StoredEvent[]> {
  const rows = await db
    .selectFrom('events')
    .selectAll()
    .where('position', '>', position)
    .orderBy('position')
    .limit(limit)
    .execute();
  return rows.map(toStoredEvent);
}

export interface ReadAllFromOptions {
  /** Start after this position; 0 reads from the beginning. */
  after?: number;
  batchSize?: number;
  /** Last position to read (inclusive); reads to the current end when left out. */
  to?: number;
}

/** Iterates the whole store in position order, one keyset-paginated batch at a time. */
export async function* readAllFrom(
  db: Kysely<Database>,
  options: ReadAllFromOptions = {},
): AsyncGenerator<StoredEvent[], void, undefined> {
  const batchSize = options.batchSize ?? 500;
  let after = options.after ?? 0;
  for (;;) {
    let query = db
      .selectFrom('events')
      .selectAll()
      .where('position', '>', after)
      .orderBy('position')
      .limit(batchSize);
    if (options.to !== undefined) query = query.where('position', '<=', options.to);
    const rows = await query.execute();
    if (rows.length === 0) return;
    yield rows.map(toStoredEvent);
    after = rows[rows.length - 1].position;
    if (rows.length < batchSize) return;
  }
}

/** Position of the last committed event, 0 when the store is empty. */
export async function headPosition(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select('position')
    .orderBy('position', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.position ?? 0;
}
