import { type Kysely, sql } from 'kysely';
import type { EventEnvelope } from '@keys/domain';
import type { KeysTableRow } from './keys.table';
import { type KeyRow, isKeyEvent } from './key-row.projection';
import type { ReadModelDatabase, ReadModelTables } from './read-model.database';
import { type SecurityLogEntry, projectKeyEvent } from './security-log.projection';

type Db = Kysely<ReadModelDatabase>;

/**
 * Applies events (ascending positions) to the read models in `tables` inside the caller's transaction:
 * loads the rows they touch, runs the pure projections, writes each changed row once and the new log
 * entries. Idempotent: a row only moves forward (last_position guard) and log ids are event positions.
 */
export async function applyEvents(trx: Db, events: readonly EventEnvelope[], tables: ReadModelTables): Promise<number> {
  const ids = [...new Set(events.filter(isKeyEvent).map((e) => e.data.keyId))];
  if (ids.length === 0) return 0;
  const existing = await trx.selectFrom(tables.keys as 'keys').selectAll().where('id', 'in', ids).execute();
  const { changed, entries } = projectBatch(events, new Map(existing.map((r) => [r.id, fromKeysTableRow(r)])));
  await writeProjected(trx, tables, changed, entries);
  return entries.length;
}

/**
 * The pure part of applying a batch: runs the projections over `events` (ascending positions) from the rows as they
 * stood before the first of them (`current`, by key id; changed in place), and returns each changed row once, in its
 * final state, and the new log entries in position order.
 */
export function projectBatch(events: readonly EventEnvelope[], current: Map<number, KeyRow>): { changed: KeyRow[]; entries: SecurityLogEntry[] } {
  const changed = new Set<number>();
  const entries: SecurityLogEntry[] = [];
  for (const event of events) {
    if (!isKeyEvent(event)) continue;
    const projected = projectKeyEvent(current.get(event.data.keyId), event);
    if (!projected) continue;
    current.set(projected.row.id, projected.row);
    changed.add(projected.row.id);
    entries.push(projected.entry);
  }
  return { changed: [...changed].map((id) => current.get(id) as KeyRow), entries };
}

/** Moves a checkpoint from `from` (its position and row version, `xmin`) to `position`; nothing if it is elsewhere. */
export interface CheckpointMove {
  name: string;
  position: number;
  from: { position: number; version: string };
}

/**
 * Writes changed rows (upserted, only forward: last_position guard) and log entries (inserted once) in one statement,
 * as `unnest` arrays, so the statement's text does not grow with the batch. With `checkpoint`, the same statement
 * moves the checkpoint and writes the rows only if it moved (data-modifying CTEs), and commits without waiting for the
 * WAL flush: rows and checkpoint are lost or kept together, and lost ones are projected again from the durable
 * events. Returns whether it wrote (always true without `checkpoint`).
 */
export async function writeProjected(db: Db, tables: ReadModelTables, changed: readonly KeyRow[], entries: readonly SecurityLogEntry[], checkpoint?: CheckpointMove): Promise<boolean> {
  const col = <T>(pick: (row: KeyRow) => T) => changed.map(pick);
  const gate = checkpoint
    ? sql`update checkpoints set position = ${checkpoint.position}, updated_at = now()
           where name = ${checkpoint.name} and position = ${checkpoint.from.position} and xmin = ${checkpoint.from.version}::xid
          returning 1`
    : sql`select 1`;
  const flushWait = checkpoint ? sql`set_config('synchronous_commit', 'off', true)` : sql`null`;
  const { rows } = await sql<{ written: number }>`
    with gate as (${gate}),
    keys_written as (
      insert into ${sql.table(tables.keys)} as t (id, account_id, key_type, name, prefix, active, state, created_at, expires_at,
          revoked_at, revoked_reason, revoked_found_at, updated_at, last_position)
      select id, account_id, key_type, name, prefix, state = 'active', state, created_at, expires_at, revoked_at, revoked_reason,
             revoked_found_at, updated_at, last_position
        from unnest(${col((r) => r.id)}::int8[], ${col((r) => r.accountId)}::int8[], ${col((r) => r.keyType)}::text[], ${col((r) => r.name)}::text[],
                    ${col((r) => r.prefix)}::text[], ${col((r) => r.state)}::text[], ${col((r) => r.createdAt)}::timestamptz[],
                    ${col((r) => r.expiresAt)}::timestamptz[], ${col((r) => r.revokedAt)}::timestamptz[], ${col((r) => r.revokedReason)}::text[],
                    ${col((r) => r.revokedFoundAt)}::text[], ${col((r) => r.updatedAt)}::timestamptz[], ${col((r) => r.lastPosition)}::int8[])
             as u(id, account_id, key_type, name, prefix, state, created_at, expires_at, revoked_at, revoked_reason, revoked_found_at, updated_at, last_position)
       where exists (select 1 from gate)
      on conflict (id) do update set name = excluded.name, active = excluded.active, state = excluded.state, expires_at = excluded.expires_at,
          revoked_at = excluded.revoked_at, revoked_reason = excluded.revoked_reason, revoked_found_at = excluded.revoked_found_at,
          updated_at = excluded.updated_at, last_position = excluded.last_position
       where t.last_position < excluded.last_position),
    log_written as (
      insert into ${sql.table(tables.securityLog)} (id, account_id, action, ip_address, created_at, details)
      select * from unnest(${entries.map((e) => e.id)}::int8[], ${entries.map((e) => e.accountId)}::int8[], ${entries.map((e) => e.action)}::text[],
                           ${entries.map((e) => e.ipAddress)}::text[], ${entries.map((e) => e.createdAt)}::timestamptz[],
                           ${entries.map((e) => JSON.stringify(e.details))}::jsonb[])
       where exists (select 1 from gate)
      on conflict (id) do nothing)
    select ${flushWait} as flush_wait, (select count(*) from gate)::int as written`.execute(db);
  return rows[0].written === 1;
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
