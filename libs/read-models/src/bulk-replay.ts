import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { KeyEvent } from '@keys/domain';
import type { ReadModelDatabase, ReadModelTables } from './read-model.database';
import type { SecurityAction } from './security-log.projection';

type Db = Kysely<ReadModelDatabase>;

/**
 * The log action of every key event type (securityActionOf, as SQL). A Record so that a new key event type
 * fails to compile here until the set-based replay below knows how it folds.
 */
const ACTIONS: Record<KeyEvent['type'], SecurityAction> = {
  KeyCreated: 'key_created',
  KeyRenamed: 'key_renamed',
  KeyDeactivated: 'key_deactivated',
  KeyReactivated: 'key_reactivated',
  KeyExpirySet: 'key_expiry_set',
  KeyExpired: 'key_expired',
  KeyDeleted: 'key_deleted',
  KeyRevoked: 'key_revoked',
};
const KEY_EVENT_TYPES = Object.keys(ACTIONS);

/** Scratch table of the histories of the keys with events besides KeyCreated (collectChangedKeyHistories). */
const HISTORY = 'rebuild_changed_key_history';

/**
 * Fills the empty tables `tables` with the read models of the events in (0, head], in SQL over `events`
 * instead of event by event through applyEvents: the rows are the same ones a replay writes (the same fold as
 * key-row.projection.ts and security-log.projection.ts), but Postgres computes them in a few statements, so no
 * event crosses the wire.
 *
 * Most keys have no event after their KeyCreated, so their row and their one log entry come straight from that
 * event. The few keys with later events get their history collected (a small scratch table), folded into a row
 * with aggregates, and each event's log entry carries the key's name as of that event. The work runs on two
 * connections when the pool has two, so that two Postgres backends share it: the log's creation entries need
 * nothing else and load while the histories are collected; the keys follow the histories.
 */
export async function bulkReplayInto(db: Db, tables: ReadModelTables, head: number): Promise<void> {
  if (!Number.isSafeInteger(head) || head < 0) throw new Error(`invalid head position ${head}`);
  await dropHistory(db);
  try {
    // Started first, so it has a connection even from a pool of one (the log's fill waits for it while holding one).
    const histories = db.transaction().execute(async (trx) => {
      await tuneForBulk(trx);
      await collectChangedKeyHistories(trx, head);
      await refuseUnknownKeyEvents(trx);
    });
    await allSettled([
      histories,
      fillTable(db, tables.securityLog, async (trx) => {
        await insertCreationEntries(trx, tables.securityLog, head);
        await histories;
        await insertHistoryEntries(trx, tables.securityLog);
      }),
      histories.then(() => fillTable(db, tables.keys, (trx) => insertKeys(trx, tables.keys, head))),
    ]);
  } finally {
    await dropHistory(db);
  }
}

/** Like Promise.all, but only once every promise has settled: no fill may still be running when this throws. */
async function allSettled(promises: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(promises)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * The sort of the key creations and the index builds want far more than the default 4 MB. The plans are plain
 * scans, sorts and hash joins, whose estimated costs make Postgres compile them with JIT, which here only costs.
 */
async function tuneForBulk(trx: Db): Promise<void> {
  await sql`set local work_mem = '256MB'`.execute(trx);
  await sql`set local maintenance_work_mem = '256MB'`.execute(trx);
  await sql`set local jit = off`.execute(trx);
}

/** Loads one table in a transaction of its own, its indexes built after its rows. */
async function fillTable(db: Db, table: string, insert: (trx: Db) => Promise<void>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await tuneForBulk(trx);
    await withIndexesBuiltAfter(trx, table, () => insert(trx));
  });
}

async function dropHistory(db: Db): Promise<void> {
  await sql`drop table if exists ${sql.table(HISTORY)}`.execute(db);
}

/** The fields the read models use of the events up to position `upTo` whose `type` passes `types`, one row per event. */
function keyEvents(upTo: RawBuilder<unknown>, types: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    select (data->>'keyId')::bigint as key_id, position, type, occurred_at,
           (data->>'accountId')::bigint as account_id, data->>'keyType' as key_type, data->>'prefix' as prefix,
           data->>'name' as name, data->>'expiresAt' as expires_at,
           case when type = 'KeyRevoked' then data end as revocation,
           metadata->>'ipAddress' as ip_address, metadata->'actor' as actor
      from events
     where position <= ${upTo} and ${types}`;
}

/**
 * The first KeyCreated of every key id up to `upTo` (of the ids that pass `keys`, a SQL condition on `key_id`).
 * A later KeyCreated for the same id changes nothing in the fold (evolveKeyRow), so only the first counts;
 * DISTINCT ON keeps it.
 */
function creations(upTo: RawBuilder<unknown>, keys: RawBuilder<unknown> = sql`true`): RawBuilder<unknown> {
  return sql`
    select distinct on (key_id) *
      from (${keyEvents(upTo, sql`type = 'KeyCreated'`)}) e
     where ${keys}
     order by key_id, position`;
}

/**
 * The scratch table of the created keys with events besides KeyCreated: per key its first KeyCreated and every
 * later event of that key id (events before it, or for an id never created, change nothing in the fold), in
 * position order, each with the key's creation columns and its name after the event (the log entry's name).
 * `name` is that of the last KeyCreated/KeyRenamed so far: their count so far numbers the name versions, and
 * first_value picks each version's setting event. Unlogged: it only lives during the rebuild.
 */
async function collectChangedKeyHistories(trx: Db, head: number): Promise<void> {
  // CREATE TABLE AS takes no bind parameters, hence the literal (a checked integer).
  const upTo = sql.lit(head);
  const changes = keyEvents(upTo, sql`type not in ('AccountCreated', 'KeyCreated')`);
  await sql`
    create unlogged table ${sql.table(HISTORY)} as
    with changes as materialized (${changes}),
    created as materialized (
      ${creations(upTo, sql`key_id in (select key_id from changes)`)}
    ),
    applied as (
      select * from created
      union all
      select e.* from changes e join created c on c.key_id = e.key_id and e.position > c.position
    ),
    versioned as (
      select a.*, count(*) filter (where type in ('KeyCreated', 'KeyRenamed')) over w as name_version,
             first_value(account_id) over w as created_account_id, first_value(key_type) over w as created_key_type,
             first_value(prefix) over w as created_prefix
        from applied a
      window w as (partition by key_id order by position)
    )
    select key_id, position, type, occurred_at,
           created_account_id as account_id, created_key_type as key_type, created_prefix as prefix,
           first_value(name) over (partition by key_id, name_version order by position) as name,
           expires_at, revocation, ip_address, actor
      from versioned`.execute(trx);
  // Real row counts for the planner of the inserts (a new table has no statistics until analyzed).
  await sql`analyze ${sql.table(HISTORY)} (key_id)`.execute(trx);
}

/**
 * The row-by-row fold throws on an event type it does not know (assertNever), rather than guess what it does
 * to a key; so does this.
 */
async function refuseUnknownKeyEvents(trx: Db): Promise<void> {
  const { rows } = await sql<{ type: string }>`
    select distinct type from ${sql.table(HISTORY)} where type <> all(${KEY_EVENT_TYPES}::text[])`.execute(trx);
  if (rows.length > 0) throw new Error(`unhandled key event type(s) in the store: ${rows.map((r) => r.type).join(', ')}`);
}

/**
 * `keys`: a key without later events is its creation (active, updated when created); a changed key is the
 * fold of its history. The state follows keyStatus (deleted > revoked > expired > inactive/active): a KeyDeleted,
 * KeyRevoked or KeyExpired anywhere decides it, otherwise the last KeyDeactivated/KeyReactivated does. Name and
 * expiry are the last ones set, the revocation the first one.
 */
async function insertKeys(trx: Db, table: string, head: number): Promise<void> {
  await sql`
    insert into ${sql.table(table)}
      (id, account_id, key_type, name, prefix, active, state, created_at, expires_at,
       revoked_at, revoked_reason, revoked_found_at, updated_at, last_position)
    with unchanged as (
      select key_id as id, account_id, key_type, name, prefix, 'active' as state, occurred_at as created_at,
             expires_at, null::jsonb as revocation, occurred_at as updated_at, position as last_position
        from (${creations(sql`${head}`)}) c
       where not exists (select from ${sql.table(HISTORY)} h where h.key_id = c.key_id)
    ),
    changed as (
      select key_id as id, account_id, key_type, (array_agg(name order by position desc))[1] as name, prefix,
             case when bool_or(type = 'KeyDeleted') then 'deleted'
                  when bool_or(type = 'KeyRevoked') then 'revoked'
                  when bool_or(type = 'KeyExpired') then 'expired'
                  when (array_agg(type order by position desc) filter (where type in ('KeyCreated', 'KeyDeactivated', 'KeyReactivated')))[1] = 'KeyDeactivated' then 'inactive'
                  else 'active' end as state,
             min(occurred_at) filter (where type = 'KeyCreated') as created_at,
             (array_agg(expires_at order by position desc) filter (where type in ('KeyCreated', 'KeyExpirySet')))[1] as expires_at,
             (array_agg(revocation order by position) filter (where type = 'KeyRevoked'))[1] as revocation,
             (array_agg(occurred_at order by position desc))[1] as updated_at,
             max(position) as last_position
        from ${sql.table(HISTORY)}
       group by key_id, account_id, key_type, prefix
    )
    select id, account_id, key_type, name, prefix, state = 'active', state, created_at, expires_at::timestamptz(3),
           (revocation->>'revokedAt')::timestamptz(3), revocation->>'reason', revocation->>'foundAt', updated_at, last_position
      from (select * from unchanged union all select * from changed) k`.execute(trx);
}

/**
 * `security_log`, first part: the entry of every key's creation (its first KeyCreated), id = position. The key's
 * row right after its creation is that event's data, so nothing else is needed.
 */
async function insertCreationEntries(trx: Db, table: string, head: number): Promise<void> {
  await sql`
    insert into ${sql.table(table)} (id, account_id, action, ip_address, created_at, details)
    select position, account_id, ${ACTIONS.KeyCreated}, ip_address, occurred_at, ${logDetails(sql`null::jsonb`)}
      from (${creations(sql`${head}`)}) c`.execute(trx);
}

/** `security_log`, second part: an entry per later event of the changed keys, with the key's name as of that event. */
async function insertHistoryEntries(trx: Db, table: string): Promise<void> {
  await sql`
    insert into ${sql.table(table)} (id, account_id, action, ip_address, created_at, details)
    select position, account_id, ${actionOf(sql`type`)}, ip_address, occurred_at, ${logDetails(sql`revocation`)}
      from ${sql.table(HISTORY)}
     where type <> 'KeyCreated'`.execute(trx);
}

function actionOf(type: RawBuilder<unknown>): RawBuilder<unknown> {
  const cases = Object.entries(ACTIONS).map(([eventType, action]) => sql`when ${sql.lit(eventType)} then ${sql.lit(action)}`);
  return sql`case ${type} ${sql.join(cases, sql` `)} end`;
}

/**
 * The `details` object of a row with columns key_id, key_type, name, prefix and actor, exactly as
 * securityLogEntry builds it and JSON.stringify writes it: a key whose value is undefined in JavaScript is left
 * out, so `actor` only when the metadata has one, and for a KeyRevoked (`revocation` is its data, else null)
 * `reason` and `foundAt` only when its data has them (a null foundAt stays).
 */
function logDetails(revocation: RawBuilder<unknown>): RawBuilder<unknown> {
  const base = sql`'keyId', key_id, 'keyType', key_type, 'name', name, 'prefix', prefix`;
  return sql`
    case when actor is null then jsonb_build_object(${base}) else jsonb_build_object(${base}, 'actor', actor) end
      || case when ${revocation} is null then '{}'::jsonb
              else (select coalesce(jsonb_object_agg(key, value), '{}'::jsonb) from jsonb_each(${revocation}) where key in ('reason', 'foundAt')) end`;
}

/**
 * Drops the indexes (and the constraints behind them: primary key, unique) of `table`, runs `fill`, and
 * recreates them from their own definitions: loading a million rows and then building each index in one sorted
 * pass is several times faster than maintaining the indexes row by row. The tables end with exactly the
 * indexes and constraints they had (the same names and definitions, those of the live tables).
 */
async function withIndexesBuiltAfter(trx: Db, table: string, fill: () => Promise<void>): Promise<void> {
  const { rows } = await sql<{ index: string; indexDef: string; constraint: string | null; constraintDef: string | null }>`
    select i.indexrelid::regclass::text as index, pg_get_indexdef(i.indexrelid) as "indexDef",
           c.conname as constraint, pg_get_constraintdef(c.oid) as "constraintDef"
      from pg_index i
      left join pg_constraint c on c.conindid = i.indexrelid and c.conrelid = i.indrelid
     where i.indrelid = ${table}::regclass`.execute(trx);
  const recreate: RawBuilder<unknown>[] = [];
  for (const { index, indexDef, constraint, constraintDef } of rows) {
    if (constraint !== null && constraintDef !== null) {
      await sql`alter table ${sql.table(table)} drop constraint ${sql.id(constraint)}`.execute(trx);
      recreate.push(sql`alter table ${sql.table(table)} add constraint ${sql.id(constraint)} ${sql.raw(constraintDef)}`);
    } else {
      await sql`drop index ${sql.raw(index)}`.execute(trx);
      recreate.push(sql.raw(indexDef));
    }
  }
  await fill();
  for (const statement of recreate) await statement.execute(trx);
}
