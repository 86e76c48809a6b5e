import { type Kysely, sql } from 'kysely';

// Write-side lookup kept in the same transaction as the key events: find a key by hash (authentication),
// scope a key id to its account, count an account's active billing keys, find keys due to expire.
// It is derived from the events and can be rebuilt from them; the events stay the source of truth.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('key_index')
    .addColumn('key_id', 'bigint', (col) => col.primaryKey())
    .addColumn('account_id', 'bigint', (col) => col.notNull())
    .addColumn('key_type', 'text', (col) => col.notNull())
    .addColumn('hash', 'text', (col) => col.notNull().unique())
    .addColumn('prefix', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('active', 'boolean', (col) => col.notNull())
    .addColumn('expires_at', 'timestamptz')
    .addColumn('expired', 'boolean', (col) => col.notNull())
    .addColumn('deleted', 'boolean', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .addColumn('version', 'integer', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('key_index_account').on('key_index').columns(['account_id', 'key_type']).execute();
  await sql`create index key_index_due on key_index (expires_at) where not expired and not deleted and expires_at is not null`.execute(db);

  // Wakes relays and followers in every process as soon as an append commits (NOTIFY is sent at commit).
  await sql`
    create function events_notify() returns trigger language plpgsql as $$
    begin
      perform pg_notify('key_events', '');
      return null;
    end $$`.execute(db);
  await sql`create trigger events_notify after insert on events for each statement execute function events_notify()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists events_notify on events`.execute(db);
  await sql`drop function if exists events_notify()`.execute(db);
  await db.schema.dropTable('key_index').execute();
}
