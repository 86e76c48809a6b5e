import { type ColumnType, type Insertable, type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import { type EventEnvelope, type ExistingKeyState, type KeyEvent, evolveKey, initialKeyState } from '@keys/domain';
import type { Database, InlineProjection } from '@keys/event-store';

/**
 * Row of `key_lookup`: the command side's lookup of every key (find by hash, scope an id to its account, count
 * an account's billing keys, find keys due to expire). Written by keyLookupProjection in the same transaction
 * as the key events; derived from them, so it can be rebuilt like any read model.
 */
export interface KeyLookupTable {
  key_id: number;
  account_id: number;
  key_type: 'proxy' | 'billing';
  hash: string;
  prefix: string;
  name: string;
  active: boolean;
  expires_at: ColumnType<Date | null, string | null, string | null>;
  expired: boolean;
  deleted: boolean;
  /** A revoked key never authenticates again (judgeKey answers REVOKED). */
  revoked: boolean;
  created_at: ColumnType<Date, string, string>;
  updated_at: ColumnType<Date, string, string>;
  version: number;
}

declare module '@keys/event-store' {
  interface Database {
    key_lookup: KeyLookupTable;
  }
}

export type KeyLookupRow = Selectable<KeyLookupTable>;

/** The key's whole row, for a key created in the batch. */
type CreatedRow = Insertable<KeyLookupTable>;

/** What the batch changed of a key that existed before it (absent fields stay as they are). */
interface ChangedRow {
  key_id: number;
  name?: string;
  active?: boolean;
  /** expires_at may be set to null, so whether it is set is said apart. */
  expires_at_set?: boolean;
  expires_at?: string | null;
  expired?: boolean;
  deleted?: boolean;
  revoked?: boolean;
  updated_at: string;
  version: number;
}

/**
 * The key_lookup writes for a batch of envelopes, one per key: the whole row for a key created in the batch
 * (folded by the key decider), the changed columns for any other key. Pure; exported for tests.
 */
export function keyLookupWrites(envelopes: readonly EventEnvelope[]): { created: CreatedRow[]; changed: ChangedRow[] } {
  const created = new Map<number, { state: ExistingKeyState; version: number }>();
  const changed = new Map<number, ChangedRow>();
  for (const envelope of envelopes) {
    if (envelope.type === 'AccountCreated') continue;
    const keyId = envelope.data.keyId;
    const whole = created.get(keyId);
    if (envelope.type === 'KeyCreated' || whole) {
      const state = evolveKey(whole?.state ?? initialKeyState(), envelope);
      if (state.exists) created.set(keyId, { state, version: envelope.streamVersion });
      continue;
    }
    const row = changed.get(keyId) ?? { key_id: keyId, updated_at: envelope.occurredAt, version: envelope.streamVersion };
    changed.set(keyId, { ...row, ...changedColumns(envelope), updated_at: envelope.occurredAt, version: envelope.streamVersion });
  }
  return { created: [...created.values()].map(({ state, version }) => keyLookupRow(state, version)), changed: [...changed.values()] };
}

/** The columns an event changes, as evolveKey changes the state. */
function changedColumns(event: Exclude<KeyEvent, { type: 'KeyCreated' }>): Partial<ChangedRow> {
  switch (event.type) {
    case 'KeyRenamed':
      return { name: event.data.name };
    case 'KeyDeactivated':
      return { active: false };
    case 'KeyReactivated':
      return { active: true };
    case 'KeyExpirySet':
      return { expires_at_set: true, expires_at: event.data.expiresAt };
    case 'KeyExpired':
      return { expired: true, active: false };
    case 'KeyDeleted':
      return { deleted: true, active: false };
    case 'KeyRevoked':
      return { revoked: true, active: false };
  }
}

/** The key_lookup row for a key's state at a stream version. */
export function keyLookupRow(state: ExistingKeyState, version: number): CreatedRow {
  const now = new Date().toISOString();
  return {
    key_id: state.keyId,
    account_id: state.accountId,
    key_type: state.keyType,
    hash: state.hash,
    prefix: state.prefix,
    name: state.name,
    active: state.active,
    expires_at: state.expiresAt,
    expired: state.expired,
    deleted: state.deleted,
    revoked: state.revocation !== null,
    created_at: state.createdAt ?? now,
    updated_at: state.updatedAt ?? now,
    version,
  };
}

/**
 * The only write to key_lookup: one statement for a whole batch (rows as JSON, so its text and parameter
 * count do not grow with the batch). New keys are inserted (a rewrite of a known key replaces its mutable
 * columns), other keys get their changed columns.
 */
export async function writeKeyLookup(trx: Transaction<Database>, envelopes: readonly EventEnvelope[]): Promise<void> {
  const { created, changed } = keyLookupWrites(envelopes);
  if (created.length === 0 && changed.length === 0) return;
  await sql`with created as (
      insert into key_lookup select * from jsonb_populate_recordset(null::key_lookup, ${JSON.stringify(created)}::jsonb)
      on conflict (key_id) do update set name = excluded.name, active = excluded.active, expires_at = excluded.expires_at,
        expired = excluded.expired, deleted = excluded.deleted, revoked = excluded.revoked, updated_at = excluded.updated_at, version = excluded.version
    )
    update key_lookup k set
      name = coalesce(c.name, k.name),
      active = coalesce(c.active, k.active),
      expires_at = case when c.expires_at_set then c.expires_at else k.expires_at end,
      expired = coalesce(c.expired, k.expired),
      deleted = coalesce(c.deleted, k.deleted),
      revoked = coalesce(c.revoked, k.revoked),
      updated_at = c.updated_at,
      version = c.version
    from jsonb_to_recordset(${JSON.stringify(changed)}::jsonb)
      as c(key_id int8, name text, active bool, expires_at_set bool, expires_at timestamptz, expired bool, deleted bool, revoked bool, updated_at timestamptz, version int4)
    where k.key_id = c.key_id`.execute(trx);
}

/** Keeps key_lookup in the append's transaction: register it with the EventAppender the key service uses. */
export const keyLookupProjection: InlineProjection = { name: 'key_lookup', project: writeKeyLookup };

export async function findKeyByHash(db: Kysely<Database>, hash: string): Promise<KeyLookupRow | undefined> {
  return db.selectFrom('key_lookup').selectAll().where('hash', '=', hash).executeTakeFirst();
}

/** The rows of the keys with these hashes (unique), in one statement; unknown hashes have none. */
export async function findKeysByHash(db: Kysely<Database>, hashes: readonly string[]): Promise<KeyLookupRow[]> {
  if (hashes.length === 0) return [];
  return db
    .selectFrom('key_lookup')
    .selectAll()
    .where(sql<boolean>`hash = any(${[...hashes]}::text[])`)
    .execute();
}

/** Active (so not revoked), undeleted, unexpired billing keys of the account as of `now`. */
export async function countUsableBillingKeys(trx: Kysely<Database>, accountId: number, now: string): Promise<number> {
  const row = await trx
    .selectFrom('key_lookup')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('key_type', '=', 'billing')
    .where('active', '=', true)
    .where('deleted', '=', false)
    .where('expired', '=', false)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date(now))]))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Keys whose expiry has passed and that have no KeyExpired yet. */
export async function findKeysDueToExpire(db: Kysely<Database>, now: string, limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('key_lookup')
    .select('key_id')
    .where('expired', '=', false)
    .where('deleted', '=', false)
    // A revoked key is dead already; expiring it too would only add an event.
    .where('revoked', '=', false)
    .where('expires_at', '<=', new Date(now))
    .orderBy('expires_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.key_id);
}
