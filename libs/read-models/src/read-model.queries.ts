import type { Kysely } from 'kysely';
import type { KeyType } from '@keys/domain';
import { fromKeysTableRow } from './apply-events';
import { type KeyRow, isActiveAt } from './key-row.projection';
import type { ReadModelDatabase } from './read-model.database';
import type { SecurityLogEntry } from './security-log.projection';

type Db = Kysely<ReadModelDatabase>;

/** The key object of docs/api.md as the read routes answer it. */
export interface KeyReadView {
  id: number;
  name: string;
  prefix: string;
  active: boolean;
  createdAt: string;
  expiresAt: string | null;
  /** Set once the key is revoked (it never authenticates again); null otherwise. */
  revokedAt: string | null;
  revokedReason: 'leaked' | 'operator' | null;
  /** For a leak: where it was reported. */
  revokedFoundAt: string | null;
}

/** `active` is judged at `nowIso`: a key past its expiresAt reads as inactive even before the sweep. */
export function toKeyReadView(row: KeyRow, nowIso: string): KeyReadView {
  return { id: row.id, name: row.name, prefix: row.prefix, active: isActiveAt(row, nowIso), createdAt: row.createdAt, expiresAt: row.expiresAt, ...revocationView(row) };
}

/** The revocation fields of the key object (null on a key never revoked). */
export function revocationView(row: Pick<KeyRow, 'revokedAt' | 'revokedReason' | 'revokedFoundAt'>) {
  return { revokedAt: row.revokedAt, revokedReason: row.revokedReason, revokedFoundAt: row.revokedFoundAt };
}

/** The account's keys of one type, oldest first; deleted keys are kept in the table but never listed. */
export async function listKeyRows(db: Db, accountId: number, keyType: KeyType): Promise<KeyRow[]> {
  const rows = await db
    .selectFrom('keys')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('key_type', '=', keyType)
    .where('state', '!=', 'deleted')
    .orderBy('id')
    .execute();
  return rows.map(fromKeysTableRow);
}

/** One key of the account and type; undefined when missing, deleted, or someone else's. */
export async function findKeyRow(db: Db, accountId: number, keyType: KeyType, keyId: number): Promise<KeyRow | undefined> {
  const row = await db
    .selectFrom('keys')
    .selectAll()
    .where('id', '=', keyId)
    .where('account_id', '=', accountId)
    .where('key_type', '=', keyType)
    .where('state', '!=', 'deleted')
    .executeTakeFirst();
  return row && fromKeysTableRow(row);
}

export type SecurityLogView = Omit<SecurityLogEntry, 'accountId'>;

/** The account's log entries newest first; `before` is the id of the last entry of the previous page. */
export async function securityLogPage(db: Db, accountId: number, limit: number, before?: number): Promise<SecurityLogView[]> {
  let query = db.selectFrom('security_log').selectAll().where('account_id', '=', accountId);
  if (before !== undefined) query = query.where('id', '<', before);
  const rows = await query.orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({ id: r.id, action: r.action, ipAddress: r.ip_address, createdAt: r.created_at.toISOString(), details: r.details }));
}

/** The read routes' view of the read models, as one injectable object. */
export class ReadModelReader {
  constructor(private readonly db: Db) {}

  async listKeys(accountId: number, keyType: KeyType, nowIso: string): Promise<KeyReadView[]> {
    return (await listKeyRows(this.db, accountId, keyType)).map((row) => toKeyReadView(row, nowIso));
  }

  async getKey(accountId: number, keyType: KeyType, keyId: number, nowIso: string): Promise<KeyReadView | undefined> {
    const row = await findKeyRow(this.db, accountId, keyType, keyId);
    return row && toKeyReadView(row, nowIso);
  }

  securityLog(accountId: number, limit: number, before?: number): Promise<SecurityLogView[]> {
    return securityLogPage(this.db, accountId, limit, before);
  }
}
