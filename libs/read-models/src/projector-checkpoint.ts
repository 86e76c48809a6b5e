import { type Kysely, sql } from 'kysely';
import { type EventRow, type StoredEvent, toPublicEnvelope, toStoredEvent } from '@keys/event-store';
import { projectBatch, writeProjected } from './apply-events';
import type { KeyRow } from './key-row.projection';
import { LIVE_TABLES, PROJECTOR_CHECKPOINT, type ReadModelDatabase } from './read-model.database';

type Db = Kysely<ReadModelDatabase>;

/**
 * Locks the projector's checkpoint row until the transaction ends and returns its position. The rebuild's swap holds
 * it; a projector batch takes it in its write statement and writes nothing unless the row is still the version its
 * read saw (writeBatch), so the live tables and the checkpoint always agree on which events they reflect.
 */
export async function lockProjectorCheckpoint(trx: Db): Promise<number> {
  await sql`insert into checkpoints (name, position) values (${PROJECTOR_CHECKPOINT}, 0) on conflict (name) do nothing`.execute(trx);
  const row = await trx
    .selectFrom('checkpoints')
    .select('position')
    .where('name', '=', PROJECTOR_CHECKPOINT)
    .forUpdate()
    .executeTakeFirstOrThrow();
  return row.position;
}

export interface ProjectedBatch {
  /** Checkpoint after the batch. */
  checkpoint: number;
  /** Events applied (including those fetched from the store to fill a gap). */
  applied: number;
  /** Events read from the store because the batch skipped over them. */
  fetched: number;
}

/**
 * Reads events after the checkpoint straight from the event store until the store's head: what the projector runs
 * at every wake-up (NOTIFY, a doorbell, the poll). A batch is two statements, each its own transaction:
 *
 * - one read (readBatch): the checkpoint, the row version it has (`xmin`), the next events and the current rows of
 *   the keys they touch, all from one snapshot. The rows and the checkpoint are always committed together, so the
 *   rows are exactly as of the checkpoint's position;
 * - one write (writeBatch): moves the checkpoint from that position and row version to the batch's last position,
 *   and only if it did, upserts the changed rows and inserts the log entries (data-modifying CTEs of one statement).
 *
 * If anything moved the checkpoint in between (a standby projector, the rebuild's swap), the write changes nothing
 * and the batch is read again from where the checkpoint is now: every batch is applied once, by one projector, on
 * the rows it was computed from. It replaces a locked transaction of five round trips (BEGIN, lock and read, read
 * the rows, write, COMMIT), which at 1,000 events/s on two cores made up a fifth of what the store executed.
 *
 * A batch shorter than `batchSize` reached the head as the read saw it, so no further read is spent confirming that
 * nothing follows; a wake-up with nothing new costs one read.
 */
export async function projectFromStore(db: Db, batchSize: number, stopAt = Number.POSITIVE_INFINITY): Promise<ProjectedBatch> {
  let total = 0;
  for (;;) {
    const batch = await readBatch(db, batchSize, stopAt);
    if (batch === null) {
      // A new store without the checkpoint row (the migration creates it; a test may have removed it).
      await sql`insert into checkpoints (name, position) values (${PROJECTOR_CHECKPOINT}, 0) on conflict (name) do nothing`.execute(db);
      continue;
    }
    const { checkpoint, stored } = batch;
    if (stored.length === 0) return { checkpoint, applied: total, fetched: total };
    if (!(await writeBatch(db, batch))) continue; // the checkpoint moved meanwhile: read again from where it is
    total += stored.length;
    const last = stored[stored.length - 1].position;
    if (stored.length < Math.min(batchSize, stopAt - checkpoint)) return { checkpoint: last, applied: total, fetched: total };
  }
}

/** A batch as read: the checkpoint and its row version, the events after it, and the rows they touch as of it. */
export interface ReadBatch {
  checkpoint: number;
  /** The checkpoint row's version (`xmin`): any change to the row changes it. */
  version: string;
  stored: StoredEvent[];
  rows: Map<number, KeyRow>;
}

/** The next batch (at most `batchSize` events, none past `stopAt`), in one statement; null when the checkpoint row is missing. */
export async function readBatch(db: Db, batchSize: number, stopAt = Number.POSITIVE_INFINITY): Promise<ReadBatch | null> {
  const bound = Number.isFinite(stopAt) ? sql`and e.position <= ${stopAt}` : sql``;
  const { rows } = await sql<EventRow & { checkpoint_position: number; checkpoint_version: string; current_key: KeyJson | null }>`
    select c.position as checkpoint_position, c.xmin::text as checkpoint_version, e.*, k.current_key
      from checkpoints c
      left join lateral (select * from events e where e.position > c.position ${bound} order by e.position limit ${batchSize}) e on true
      left join lateral (
        select to_jsonb(k) as current_key from ${sql.table(LIVE_TABLES.keys)} k
         where k.id = case when jsonb_typeof(e.data -> 'keyId') = 'number' then (e.data ->> 'keyId')::bigint end
         -- LIMIT keeps this a lookup by primary key per event: without it the planner may turn it into a join
         -- over the whole table (a sequential scan of keys at every batch).
         limit 1) k on true
     where c.name = ${PROJECTOR_CHECKPOINT}
     order by e.position`.execute(db);
  if (rows.length === 0) return null;
  const current = new Map<number, KeyRow>();
  for (const row of rows) if (row.current_key) current.set(Number(row.current_key.id), fromKeysJson(row.current_key));
  return {
    checkpoint: Number(rows[0].checkpoint_position),
    version: rows[0].checkpoint_version,
    // No event after the checkpoint: the lateral join gave one row of nulls.
    stored: rows[0].position === null ? [] : rows.map((row) => toStoredEvent(row)),
    rows: current,
  };
}

/**
 * Applies a batch read by readBatch in one statement, if the checkpoint is still at the position and row version it
 * was read at; returns whether it was (false: nothing written). Committed without waiting for the WAL flush
 * (`synchronous_commit` off for this statement's transaction only): rows and checkpoint commit together, so a database
 * crash can lose at most the last few batches as a whole, which are then projected again from the durable events.
 */
export async function writeBatch(db: Db, batch: ReadBatch): Promise<boolean> {
  const last = batch.stored[batch.stored.length - 1].position;
  const { changed, entries } = projectBatch(batch.stored.map(toPublicEnvelope), new Map(batch.rows));
  return writeProjected(db, LIVE_TABLES, changed, entries, { name: PROJECTOR_CHECKPOINT, position: last, from: { position: batch.checkpoint, version: batch.version } });
}

/** A keys row as `to_jsonb` gives it. */
interface KeyJson {
  id: number;
  account_id: number;
  key_type: KeyRow['keyType'];
  name: string;
  prefix: string;
  state: KeyRow['state'];
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  revoked_reason: KeyRow['revokedReason'];
  revoked_found_at: string | null;
  updated_at: string;
  last_position: number;
}

const iso = (timestamp: string) => new Date(timestamp).toISOString();

function fromKeysJson(j: KeyJson): KeyRow {
  return {
    id: Number(j.id),
    accountId: Number(j.account_id),
    keyType: j.key_type,
    name: j.name,
    prefix: j.prefix,
    state: j.state,
    createdAt: iso(j.created_at),
    expiresAt: j.expires_at === null ? null : iso(j.expires_at),
    revokedAt: j.revoked_at === null ? null : iso(j.revoked_at),
    revokedReason: j.revoked_reason,
    revokedFoundAt: j.revoked_found_at,
    updatedAt: iso(j.updated_at),
    lastPosition: Number(j.last_position),
  };
}
