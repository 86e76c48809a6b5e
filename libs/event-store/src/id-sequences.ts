import { type Kysely, sql } from 'kysely';
import type { Database } from './database';

/** Next account id; ids come from sequences so deciders receive them on the command (no I/O inside). */
export async function nextAccountId(db: Kysely<Database>): Promise<number> {
  return nextVal(db, 'account_id_seq');
}

export async function nextKeyId(db: Kysely<Database>): Promise<number> {
  return nextVal(db, 'key_id_seq');
}

async function nextVal(db: Kysely<Database>, sequence: 'account_id_seq' | 'key_id_seq'): Promise<number> {
  const { rows } = await sql<{ id: number }>`select nextval(${sequence}::regclass) as id`.execute(db);
  return rows[0].id;
}

/** `count` key ids in one round trip (for callers that hand them out from a local block). */
export async function nextKeyIds(db: Kysely<Database>, count: number): Promise<number[]> {
  const { rows } = await sql<{ id: number }>`select nextval('key_id_seq'::regclass) as id from generate_series(1, ${count}::int)`.execute(db);
  return rows.map((r) => r.id);
}
