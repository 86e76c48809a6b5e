import { type Kysely, sql } from 'kysely';

// The projector's read models (libs/read-models). Derived from the events and rebuildable from them at any
// time; the rebuild copies these tables with `like ... including all`, so every index defined here follows.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('keys')
    .addColumn('id', 'bigint', (col) => col.primaryKey())
    .addColumn('account_id', 'bigint', (col) => col.notNull())
    .addColumn('key_type', 'text', (col) => col.notNull().check(sql`key_type in ('proxy', 'billing')`))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('prefix', 'text', (col) => col.notNull())
    .addColumn('active', 'boolean', (col) => col.notNull())
    .addColumn('state', 'text', (col) => col.notNull().check(sql`state in ('active', 'inactive', 'expired', 'deleted')`))
    .addColumn('created_at', sql`timestamptz(3)`, (col) => col.notNull())
    .addColumn('expires_at', sql`timestamptz(3)`)
    .addColumn('updated_at', sql`timestamptz(3)`, (col) => col.notNull())
    .addColumn('last_position', 'bigint', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('keys_account_type_idx').on('keys').columns(['account_id', 'key_type', 'id']).execute();

  await db.schema
    .createTable('security_log')
    // The event's position: unique, monotone, identical in every rebuild.
    .addColumn('id', 'bigint', (col) => col.primaryKey())
    .addColumn('account_id', 'bigint', (col) => col.notNull())
    .addColumn('action', 'text', (col) => col.notNull())
    .addColumn('ip_address', 'text')
    .addColumn('created_at', sql`timestamptz(3)`, (col) => col.notNull())
    .addColumn('details', 'jsonb', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('security_log_account_id_idx').on('security_log').columns(['account_id', 'id']).execute();

  // Read-your-writes asks "highest position written for this account" before each read.
  await db.schema.createIndex('events_account_position_idx').on('events').columns(['account_id', 'position']).execute();

  await sql`insert into checkpoints (name, position) values ('projector', 0) on conflict (name) do nothing`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from checkpoints where name = 'projector'`.execute(db);
  await db.schema.dropIndex('events_account_position_idx').execute();
  await db.schema.dropTable('security_log').execute();
  await db.schema.dropTable('keys').execute();
}
