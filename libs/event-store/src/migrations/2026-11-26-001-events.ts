import { type Kysely, sql } from 'kysely';

// Self-contained on purpose: a migration must keep meaning the same thing whatever the app code becomes.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('events')
    .addColumn('position', 'bigint', (col) => col.primaryKey())
    .addColumn('event_id', 'uuid', (col) => col.notNull().unique())
    .addColumn('stream_id', 'text', (col) => col.notNull())
    .addColumn('stream_version', 'integer', (col) => col.notNull().check(sql`stream_version > 0`))
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('account_id', 'bigint')
    // timestamptz(3): milliseconds, exactly what toISOString() renders and the hash covers.
    .addColumn('occurred_at', sql`timestamptz(3)`, (col) => col.notNull())
    .addColumn('data', 'jsonb', (col) => col.notNull())
    .addColumn('metadata', 'jsonb', (col) => col.notNull())
    .addColumn('prev_hash', 'text', (col) => col.notNull())
    .addColumn('hash', 'text', (col) => col.notNull())
    // The unique constraint's index also serves lookups by (stream_id, stream_version).
    .addUniqueConstraint('events_stream_version_unique', ['stream_id', 'stream_version'])
    .execute();

  await db.schema.createIndex('events_account_id_idx').on('events').column('account_id').execute();

  await sql`
    create function events_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception 'events is append-only: % refused', tg_op using errcode = 'restrict_violation';
    end;
    $$`.execute(db);
  await sql`
    create trigger events_refuse_update_delete before update or delete on events
    for each row execute function events_refuse_change()`.execute(db);
  await sql`
    create trigger events_refuse_truncate before truncate on events
    for each statement execute function events_refuse_change()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('events').execute();
  await sql`drop function events_refuse_change()`.execute(db);
}
