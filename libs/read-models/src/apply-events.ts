import { type Kysely, sql } from 'kysely';
import type { EventEnvelope } from '@keys/domain';
import type { KeysTableRow } from './keys.table';
import { type KeyRow, isKeyEvent } from './key-row.projection';
import type { ReadModelDatabase, ReadModelTables } from './read-model.database';
import { type SecurityLogEntry, projectKeyEvent } from './security-log.projection';

type Db = Kysely<ReadModelDatabase>;

// Kysely types the live table names; the rebuild copies have the same shape under other names, so the
// name is cast at this one boundary.
const keysTable = (tables: ReadModelTables) => tables.keys as 'keys';
const logTable = (tables: ReadModelTables) => tables.securityLog as 'security_log';

/**
 * Applies events (ascending positions) to the read models in `tables` inside the caller's transaction:
 * loads the rows they touch, runs the pure projections, writes each changed row once and the new log
 * entries. Idempotent: a row only moves forward (last_position guard) and log ids are event positions.
 */
export async function applyEvents(trx: Db, events: readonly EventEnvelope[], tables: ReadModelTables): Promise<number> {
  const keyEvents = events.filter(isKeyEvent);
  if (keyEvents.length === 0) return 0;
  const ids = [...new Set(keyEvents.map((e) => e.data.keyId))];
  const existing = await trx.selectFrom(keysTable(tables)).selectAll().where('id', 'in', ids).execute();
  const rows = new Map<number, KeyRow>(existing.map((r) => [r.id, fromKeysTableRow(r)]));
  const changed = new Set<number>();
  const entries: SecurityLogEntry[] = [];
  for (const event of keyEvents) {
    const projected = projectKeyEvent(rows.get(event.data.keyId), event);
    if (!projected) continue;
    rows.set(projected.row.id, projected.row);
    changed.add(projected.row.id);
    entries.push(projected.entry);
  }
  if (changed.size > 0) {
    const values = [...changed].map((id) => toKeysTableValues(rows.get(id) as KeyRow));
    await trx
      .insertInto(keysTable(tables))
      .values(values)
      .onConflict((oc) =>
        oc
          .column('id')
          .doUpdateSet((eb) => ({
            name: eb.ref('excluded.name'),
            active: eb.ref('excluded.active'),
            state: eb.ref('excluded.state'),
            expires_at: eb.ref('excluded.expires_at'),
            revoked_at: eb.ref('excluded.revoked_at'),
            revoked_reason: eb.ref('excluded.revoked_reason'),
            revoked_found_at: eb.ref('excluded.revoked_found_at'),
            updated_at: eb.ref('excluded.updated_at'),
            last_position: eb.ref('excluded.last_position'),
          }))
          .where(sql.ref(`${tables.keys}.last_position`), '<', sql.ref('excluded.last_position')),
      )
      .execute();
  }
  if (entries.length > 0) {
    await trx
      .insertInto(logTable(tables))
      .values(
        entries.map((e) => ({
          id: e.id,
          account_id: e.accountId,
          action: e.action,
          ip_address: e.ipAddress,
          created_at: e.createdAt,
          details: JSON.stringify(e.details),
        })),
      )
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }
  return entries.length;
}

export function fromKeysTableRow(r: KeysTableRow): KeyRow {
  return {
    id: r.id,
    accountId: r.account_id,
    keyType: r.key_type,
    name: r.name,
    prefix: r.prefix,
    state: r.state,
    createdAt: r.created_at.toISOString(),
    expiresAt: r.expires_at ? r.expires_at.toISOString() : null,
    revokedAt: r.revoked_at ? r.revoked_at.toISOString() : null,
    revokedReason: r.revoked_reason,
    revokedFoundAt: r.revoked_found_at,
    updatedAt: r.updated_at.toISOString(),
    lastPosition: r.last_position,
  };
}

function toKeysTableValues(row: KeyRow) {
  return {
    id: row.id,
    account_id: row.accountId,
    key_type: row.keyType,
    name: row.name,
    prefix: row.prefix,
    active: row.state === 'active',
    state: row.state,
    created_at: row.createdAt,
    expires_at: row.expiresAt,
    revoked_at: row.revokedAt,
    revoked_reason: row.revokedReason,
    revoked_found_at: row.revokedFoundAt,
    updated_at: row.updatedAt,
    last_position: row.lastPosition,
  };
}
