import type { Kysely } from 'kysely';
import type { KeyType } from '@keys/domain';
import { fromKeysTableRow } from './apply-events';
import { type KeyRow, isActiveAt } from './key-row.projection';
import type { KeysTableRow } from './keys.table';
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
  /** The latest VALID verification as the verifiers reported it (usage telemetry); null if never used. */
  lastUsedAt: string | null;
  /** Set once the key is revoked (it never authenticates again); null otherwise. */
  revokedAt: string | null;
  revokedReason: 'leaked' | 'operator' | null;
  /** For a leak: where it was reported. */
  revokedFoundAt: string | null;
}

/** `active` is judged at `nowIso`: a key past its expiresAt reads as inactive even before the sweep. */
export function toKeyReadView(row: KeyRow & { lastUsedAt?: string | null }, nowIso: string): KeyReadView {
  return { id: row.id, name: row.name, prefix: row.prefix, active: isActiveAt(row, nowIso), createdAt: row.createdAt, expiresAt: row.expiresAt, lastUsedAt: row.lastUsedAt ?? null, ...revocationView(row) };
}

/** The revocation fields of the key object (null on a key never revoked). */
export function revocationView(row: Pick<KeyRow, 'revokedAt' | 'revokedReason' | 'revokedFoundAt'>) {
  return { revokedAt: row.revokedAt, revokedReason: row.revokedReason, revokedFoundAt: row.revokedFoundAt };
}

/** A key row with its last use from `key_usage` (kept beside the read model, not derived from events). */
export type KeyRowWithUsage = KeyRow & { lastUsedAt: string | null };

const withUsage = (r: KeysTableRow & { last_used_at: Date | null }): KeyRowWithUsage => ({ ...fromKeysTableRow(r), lastUsedAt: r.last_used_at?.toISOString() ?? null });

const keysWithUsage = (db: Db) =>
  db.selectFrom('keys').leftJoin('key_usage', 'key_usage.key_id', 'keys.id').selectAll('keys').select('key_usage.last_used_at');

/**
 * The account's keys of one type, oldest first; deleted keys are kept in the table but never listed.
 * `unusedSince`: only keys last used at or before it, a never-used key counting from its createdAt.
 */
export async function listKeyRows(db: Db, accountId: number, keyType: KeyType, unusedSince?: string): Promise<KeyRowWithUsage[]> {
  let query = keysWithUsage(db)
    .where('keys.account_id', '=', accountId)
    .where('keys.key_type', '=', keyType)
    .where('keys.state', '!=', 'deleted');
  if (unusedSince !== undefined) query = query.where((eb) => eb(eb.fn.coalesce('key_usage.last_used_at', 'keys.created_at'), '<=', new Date(unusedSince)));
  const rows = await query.orderBy('keys.id').execute();
  return rows.map(withUsage);
}

/** One key of the account and type; undefined when missing, deleted, or someone else's. */
export async function findKeyRow(db: Db, accountId: number, keyType: KeyType, keyId: number): Promise<KeyRowWithUsage | undefined> {
  const row = await keysWithUsage(db)
    .where('keys.id', '=', keyId)
    .where('keys.account_id', '=', accountId)
    .where('keys.key_type', '=', keyType)
    .where('keys.state', '!=', 'deleted')
    .executeTakeFirst();
  return row && withUsage(row);
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

  /** `unusedForDays`: only keys not used for that many days before `nowIso` (never-used ones from createdAt). */
  async listKeys(accountId: number, keyType: KeyType, nowIso: string, unusedForDays?: number): Promise<KeyReadView[]> {
    const unusedSince = unusedForDays === undefined ? undefined : new Date(Date.parse(nowIso) - unusedForDays * 86_400_000).toISOString();
    return (await listKeyRows(this.db, accountId, keyType, unusedSince)).map((row) => toKeyReadView(row, nowIso));
  }

  async getKey(accountId: number, keyType: KeyType, keyId: number, nowIso: string): Promise<KeyReadView | undefined> {
    const row = await findKeyRow(this.db, accountId, keyType, keyId);
    return row && toKeyReadView(row, nowIso);
  }

  /** A key's last use (for a write's answer, which is not read from the read model); null if never used. */
  async lastUsedAt(keyId: number): Promise<string | null> {
    const row = await this.db.selectFrom('key_usage').select('last_used_at').where('key_id', '=', keyId).executeTakeFirst();
    return row?.last_used_at.toISOString() ?? null;
  }

  securityLog(accountId: number, limit: number, before?: number): Promise<SecurityLogView[]> {
    return securityLogPage(this.db, accountId, limit, before);
  }
}
