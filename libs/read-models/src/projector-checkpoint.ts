import { type Kysely, sql } from 'kysely';
import { type EventRow, type StoredEvent, readAllAfter, toPublicEnvelope, toStoredEvent } from '@keys/event-store';
import { applyEvents } from './apply-events';
import { LIVE_TABLES, PROJECTOR_CHECKPOINT, type ReadModelDatabase } from './read-model.database';

type Db = Kysely<ReadModelDatabase>;

/**
 * Locks the projector's checkpoint row until the transaction ends and returns its position. Every change
 * to the live read models happens under this lock (projector batches and the rebuild's swap), so they
 * never interleave and the checkpoint always says exactly which events the live tables reflect.
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

/**
 * Lets the transaction commit without waiting for its WAL flush (`synchronous_commit = off`, this transaction
 * only). For a projector batch that is safe: the read-model rows and the checkpoint commit together, so a database
 * crash can lose at most the last few batches as a whole (both the rows and the checkpoint), and they are then
 * projected again from the events, which are committed durably. What it saves is a disk flush per batch on the
 * path from an event's commit to its read-model row (docs/performance.md, projection_lag_p99).
 */
export async function withoutFlushWait(trx: Db): Promise<void> {
  await sql`set local synchronous_commit = off`.execute(trx);
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
 * Reads events after the checkpoint straight from the event store, one locked transaction per batch,
 * until the store's head: what the projector runs at every wake-up (NOTIFY, a doorbell, the poll).
 * A batch shorter than `batchSize` reached the head as the read saw it, so no further transaction is spent
 * confirming that nothing follows; a wake-up with nothing new costs one short transaction.
 */
export async function projectFromStore(db: Db, batchSize: number, stopAt = Number.POSITIVE_INFINITY): Promise<ProjectedBatch> {
  let total = 0;
  for (;;) {
    const result = await db.transaction().execute(async (trx) => {
      const { checkpoint, stored } = await lockAndReadBatch(trx, batchSize, stopAt);
      if (stored.length === 0) return { checkpoint, applied: 0, full: false };
      const last = stored[stored.length - 1].position;
      await applyEvents(trx, stored.map(toPublicEnvelope), LIVE_TABLES, { checkpoint: { name: PROJECTOR_CHECKPOINT, position: last } });
      return { checkpoint: last, applied: stored.length, full: stored.length === Math.min(batchSize, stopAt - checkpoint) };
    });
    total += result.applied;
    if (!result.full) return { checkpoint: result.checkpoint, applied: total, fetched: total };
  }
}

/**
 * lockProjectorCheckpoint, withoutFlushWait and the read of the next events (at most `batchSize`, none past `stopAt`)
 * in one round trip: `set_config(..., true)` is SET LOCAL, the checkpoint row is locked by the same statement, and
 * the events come joined to it. Only when the row does not exist yet (a new store) is it created first.
 */
async function lockAndReadBatch(trx: Db, batchSize: number, stopAt: number): Promise<{ checkpoint: number; stored: StoredEvent[] }> {
  const bound = Number.isFinite(stopAt) ? sql`and e.position <= ${stopAt}` : sql``;
  const { rows } = await sql<EventRow & { checkpoint_position: number; flush_wait: string }>`
    select c.position as checkpoint_position, set_config('synchronous_commit', 'off', true) as flush_wait, e.*
      from checkpoints c
      left join lateral (select * from events e where e.position > c.position ${bound} order by e.position limit ${batchSize}) e on true
     where c.name = ${PROJECTOR_CHECKPOINT}
       for update of c`.execute(trx);
  if (rows.length === 0) {
    await withoutFlushWait(trx);
    const checkpoint = await lockProjectorCheckpoint(trx);
    return { checkpoint, stored: checkpoint >= stopAt ? [] : await readAllAfter(trx, checkpoint, Math.min(batchSize, stopAt - checkpoint)) };
  }
  const checkpoint = Number(rows[0].checkpoint_position);
  // No event after the checkpoint: the lateral join gave one row of nulls.
  const stored = rows[0].position === null ? [] : rows.map((row) => toStoredEvent(row));
  return { checkpoint, stored };
}
