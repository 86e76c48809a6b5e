import { type Kysely, sql } from 'kysely';

// "key index" also names the verifier's in-memory index; the command side's table is the key lookup.
// Renamed in place (with its constraints and indexes), so no row is rewritten.
const RENAMES: ReadonlyArray<[kind: 'constraint' | 'index', from: string, to: string]> = [
  ['constraint', 'key_index_pkey', 'key_lookup_pkey'],
  ['constraint', 'key_index_hash_key', 'key_lookup_hash_key'],
  ['index', 'key_index_account', 'key_lookup_account'],
  ['index', 'key_index_due', 'key_lookup_due'],
];

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table key_index rename to key_lookup`.execute(db);
  for (const [kind, from, to] of RENAMES) await rename(db, 'key_lookup', kind, from, to);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [kind, from, to] of RENAMES) await rename(db, 'key_lookup', kind, to, from);
  await sql`alter table key_lookup rename to key_index`.execute(db);
}

async function rename(db: Kysely<any>, table: string, kind: 'constraint' | 'index', from: string, to: string): Promise<void> {
  const statement =
    kind === 'constraint'
      ? sql`alter table ${sql.table(table)} rename constraint ${sql.id(from)} to ${sql.id(to)}`
      : sql`alter index ${sql.id(from)} rename to ${sql.id(to)}`;
  await statement.execute(db);
}
