import { type Kysely, sql } from 'kysely';

// Last use of each key, from the verifiers' usage batches (docs/verification.md, usage telemetry). Not derived
// from the events: the read-model rebuild neither copies nor swaps it, so it survives a rebuild.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('key_usage')
    .addColumn('key_id', 'bigint', (col) => col.primaryKey())
    .addColumn('last_used_at', sql`timestamptz(3)`, (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('key_usage').execute();
}
