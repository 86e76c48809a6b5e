import { type Kysely, sql } from 'kysely';
import { randomBytes } from 'node:crypto';
import { headPosition } from '@keys/event-store';
import { LIVE_TABLES, type ReadModelDatabase, type ReadModelTables } from './read-model.database';
import { createTablesLikeLive, dropTables, replayInto } from './rebuild';

export interface ReadModelChecksum {
  keys: string;
  keyCount: number;
  securityLog: string;
  logCount: number;
}

/** md5 over every row of both read models in id order: equal checksums mean row-for-row identical tables. */
export async function readModelChecksum(db: Kysely<ReadModelDatabase>, tables: ReadModelTables = LIVE_TABLES): Promise<ReadModelChecksum> {
  const result = await sql<{ keys: string; key_count: number; log: string; log_count: number }>`
    select
      (select md5(coalesce(string_agg(row_to_json(k)::text, E'\n' order by k.id), '')) from ${sql.table(tables.keys)} k) as keys,
      (select count(*) from ${sql.table(tables.keys)}) as key_count,
      (select md5(coalesce(string_agg(row_to_json(l)::text, E'\n' order by l.id), '')) from ${sql.table(tables.securityLog)} l) as log,
      (select count(*) from ${sql.table(tables.securityLog)}) as log_count`.execute(db);
  const row = result.rows[0];
  return { keys: row.keys, keyCount: Number(row.key_count), securityLog: row.log, logCount: Number(row.log_count) };
}

/** Checksum of read models replayed from scratch (into scratch tables) up to `to`, default the current head. */
export async function cleanReplayChecksum(db: Kysely<ReadModelDatabase>, to?: number): Promise<ReadModelChecksum & { position: number }> {
  const suffix = randomBytes(4).toString('hex');
  const scratch: ReadModelTables = { keys: `keys_replay_${suffix}`, securityLog: `security_log_replay_${suffix}` };
  const position = to ?? (await headPosition(db));
  await createTablesLikeLive(db, scratch);
  try {
    await replayInto(db, scratch, { to: position, batchSize: 2000 });
    return { ...(await readModelChecksum(db, scratch)), position };
  } finally {
    await dropTables(db, scratch);
  }
}
