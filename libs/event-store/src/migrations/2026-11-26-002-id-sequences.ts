import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create sequence account_id_seq`.execute(db);
  await sql`create sequence key_id_seq`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop sequence key_id_seq`.execute(db);
  await sql`drop sequence account_id_seq`.execute(db);
}
