import { type Kysely, type QueryCreator, sql } from 'kysely';
import { saveCheckpoint } from '@keys/event-store';
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
export async function applyEvents(trx: Db, events: readonly EventEnvelope[], tables: ReadModelTables, options: ApplyOptions = {}): Promise<number> {
  const keyEvents = events.filter(isKeyEvent);
  if (keyEvents.length === 0) {
    if (options.checkpoint) await saveCheckpoint(trx, options.checkpoint.name, options.checkpoint.position);
    return 0;
  }
  const ids = [...new Set(keyEvents.map((e) => e.data.keyId))];
  const existing = await trx.selectFrom(keysTable(tables)).selectAll().where('id', 'in', ids).execute();
  const { changed, entries } = projectBatch(events, new Map(existing.map((r) => [r.id, fromKeysTableRow(r)])));
  // The row upsert, the log entries and the checkpoint go out as one statement (data-modifying CTEs): each round trip
  // to Postgres adds to the time from an event's commit to its read-model row.
  const writes: Write[] = [];
  if (changed.length > 0) {
    const values = changed.map(toKeysTableValues);
    writes.push({
      name: 'keys_written',
      build: (qc) =>
        qc
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
        ),
    });
  }
  if (entries.length > 0) {
    writes.push({
      name: 'log_written',
      build: (qc) =>
        qc
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
        .onConflict((oc) => oc.column('id').doNothing()),
    });
  }
  if (options.checkpoint) {
    const { name, position } = options.checkpoint;
    writes.push({
      name: 'checkpoint_written',
      build: (qc) =>
        qc
        .insertInto('checkpoints')
        .values({ name, position, updated_at: sql<string>`now()` })
        .onConflict((oc) => oc.column('name').doUpdateSet({ position, updated_at: sql<string>`now()` })),
    });
  }
  await executeTogether(trx, writes);
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

/** One write of a batch, built on whatever query creator carries the CTEs before it. */
interface Write {
  name: string;
  build(qc: QueryCreator<ReadModelDatabase>): { execute(): Promise<unknown> };
}

export interface ApplyOptions {
  /** Saved in the same statement as the rows (the projector's checkpoint). */
  checkpoint?: { name: string; position: number };
}

/** The statements as one: all but the last become data-modifying CTEs of the last (each runs exactly once). */
async function executeTogether(trx: Db, writes: readonly Write[]): Promise<void> {
  if (writes.length === 0) return;
  let creator: QueryCreator<ReadModelDatabase> = trx;
  // Kysely types a CTE by its output columns; these have none (no RETURNING), which its types do not model.
  for (const { name, build } of writes.slice(0, -1)) creator = creator.with(name, (qc) => build(qc) as never) as unknown as QueryCreator<ReadModelDatabase>;
  await writes[writes.length - 1].build(creator).execute();
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
