import { type Kysely, sql } from 'kysely';

// KeyRevoked: key_lookup refuses a revoked key at authentication; the keys read model shows the revocation to
// the key's owner. No event before this migration is a revocation, so the defaults are the truth for old rows.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table key_lookup add column revoked boolean not null default false`.execute(db);
  await sql`alter table keys
      add column revoked_at timestamptz(3),
      add column revoked_reason text check (revoked_reason in ('leaked', 'operator')),
      add column revoked_found_at text,
      drop constraint keys_state_check,
      add constraint keys_state_check check (state in ('active', 'inactive', 'expired', 'revoked', 'deleted'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table keys
      drop constraint keys_state_check,
      add constraint keys_state_check check (state in ('active', 'inactive', 'expired', 'deleted')),
      drop column revoked_found_at,
      drop column revoked_reason,
      drop column revoked_at`.execute(db);
  await sql`alter table key_lookup drop column revoked`.execute(db);
}
