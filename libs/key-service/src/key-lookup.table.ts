import type { Insertable, Kysely, Transaction } from 'kysely';
import type { ExistingKeyState } from '@keys/domain';
import { type Database, type KeyIndexRow, type KeyIndexTable, upsertKeyIndexRows } from '@keys/event-store';

export type { KeyIndexTable, KeyIndexRow } from '@keys/event-store';
/** The one Database interface of the store; the aliases keep call sites readable. */
export type CommandDatabase = Database;
export type CommandDb = Kysely<Database>;
export type CommandTrx = Transaction<Database>;

/** The key_index row for a key's state at a stream version. */
export function keyIndexRow(state: ExistingKeyState, version: number): Insertable<KeyIndexTable> {
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
    created_at: state.createdAt ?? now,
    updated_at: state.updatedAt ?? now,
    version,
  };
}

export async function upsertKeyIndex(trx: CommandTrx, state: ExistingKeyState, version: number): Promise<void> {
  await upsertKeyIndexRows(trx, [keyIndexRow(state, version)]);
}

export async function findKeyByHash(db: CommandDb, hash: string): Promise<KeyIndexRow | undefined> {
  return db.selectFrom('key_index').selectAll().where('hash', '=', hash).executeTakeFirst();
}

/** Active, undeleted, unexpired billing keys of the account as of `now`. */
export async function countUsableBillingKeys(trx: CommandTrx, accountId: number, now: string): Promise<number> {
  const row = await trx
    .selectFrom('key_index')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('key_type', '=', 'billing')
    .where('active', '=', true)
    .where('deleted', '=', false)
    .where('expired', '=', false)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now as unknown as Date)]))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Keys whose expiry has passed and that have no KeyExpired yet. */
export async function findKeysDueToExpire(db: CommandDb, now: string, limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('key_index')
    .select('key_id')
    .where('expired', '=', false)
    .where('deleted', '=', false)
    .where('expires_at', '<=', now as unknown as Date)
    .orderBy('expires_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.key_id);
}
