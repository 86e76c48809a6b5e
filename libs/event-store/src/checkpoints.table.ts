import type { ColumnType, Kysely, Transaction } from 'kysely';
import type { Database } from './database';

/** Named positions in the event store, e.g. how far the outbox relay or a projector has got. */
export interface CheckpointsTable {
  name: string;
  position: number;
  updated_at: ColumnType<Date, string | undefined, string>;
}

/** Position stored under `name`, or 0 when nothing was saved yet. */
export async function readCheckpoint(db: Kysely<Database>, name: string): Promise<number> {
  const row = await db
    .selectFrom('checkpoints')
    .select('position')
    .where('name', '=', name)
    .executeTakeFirst();
  return row?.position ?? 0;
}

/** Upserts the checkpoint; meant to run in the same transaction as the work it records. */
export async function saveCheckpoint(
  trx: Transaction<Database> | Kysely<Database>,
  name: string,
  position: number,
): Promise<void> {
  const now = new Date().toISOString();
  await trx
    .insertInto('checkpoints')
    .values({ name, position, updated_at: now })
    .onConflict((oc) => oc.column('name').doUpdateSet({ position, updated_at: now }))
    .execute();
}
