import { type Kysely, sql } from 'kysely';
import { SessionLock, headPosition, readAllFrom, readCheckpoint, saveCheckpoint, toPublicEnvelope } from '@keys/event-store';
import { applyEvents } from './apply-events';
import { bulkReplayInto } from './bulk-replay';
import { lockProjectorCheckpoint } from './projector-checkpoint';
import {
  LIVE_TABLES,
  PROJECTOR_CHECKPOINT,
  REBUILD_TABLES,
  RETIRED_TABLES,
  type ReadModelDatabase,
  type ReadModelTables,
} from './read-model.database';

type Db = Kysely<ReadModelDatabase>;

/** Session advisory lock: one rebuild at a time across every process. */
const REBUILD_LOCK_KEY = 7_362_010_005;

export interface RebuildProgress {
  phase: 'replay' | 'catch-up' | 'swap' | 'done';
  /** Position reached. */
  position: number;
  /** Position the phase runs to. */
  target: number;
}

export interface RebuildOptions {
  /** Events per transaction while following the projector and in the swap's tail (the replay up to H is set-based). */
  batchSize?: number;
  onProgress?: (progress: RebuildProgress) => void;
  /** Runs right before the locked swap (a seam for tests that move the projector in between). */
  beforeSwap?: () => Promise<void>;
}

export interface RebuildResult {
  /** Head of the store when the replay started. */
  replayedTo: number;
  /** Projector checkpoint the swapped-in tables reflect. */
  checkpoint: number;
  keys: number;
  logEntries: number;
}

export class RebuildInProgressError extends Error {
  override readonly name = 'RebuildInProgressError';
  constructor() {
    super('another read-model rebuild is running');
  }
}

/** Creates empty tables with the live tables' columns, constraints, indexes and grants. */
export async function createTablesLikeLive(db: Db, tables: ReadModelTables): Promise<void> {
  await dropTables(db, tables);
  await sql`create table ${sql.table(tables.keys)} (like keys including all)`.execute(db);
  await sql`create table ${sql.table(tables.securityLog)} (like security_log including all)`.execute(db);
  await copyGrants(db, LIVE_TABLES.keys, tables.keys);
  await copyGrants(db, LIVE_TABLES.securityLog, tables.securityLog);
}

/**
 * `like ... including all` copies no privileges: without this the app role (database-roles.ts in
 * event-store) would lose its access to the read models at the swap, since the rebuild runs as the owner.
 */
async function copyGrants(db: Db, from: string, to: string): Promise<void> {
  const { rows } = await sql<{ grantee: string; privilege: string }>`
    select case when a.grantee = 0 then 'public' else quote_ident(r.rolname) end as grantee, a.privilege_type as privilege
      from pg_class c
      cross join lateral aclexplode(c.relacl) a
      left join pg_roles r on r.oid = a.grantee
     where c.oid = ${from}::regclass and a.grantee <> c.relowner`.execute(db);
  for (const { grantee, privilege } of rows) {
    await sql`grant ${sql.raw(privilege)} on table ${sql.table(to)} to ${sql.raw(grantee)}`.execute(db);
  }
}

export async function dropTables(db: Db, tables: ReadModelTables): Promise<void> {
  await sql`drop table if exists ${sql.table(tables.keys)}, ${sql.table(tables.securityLog)}`.execute(db);
}

/** Replays the store's events in (after, to] into `tables`, one transaction per batch. Returns the last position. */
export async function replayInto(
  db: Db,
  tables: ReadModelTables,
  options: { after?: number; to: number; batchSize?: number; onBatch?: (position: number) => void },
): Promise<number> {
  let position = options.after ?? 0;
  if (position >= options.to) return position;
  for await (const batch of readAllFrom(db, { after: position, to: options.to, batchSize: options.batchSize ?? 1000 })) {
    const envelopes = batch.map(toPublicEnvelope);
    // Inside the caller's transaction (the rebuild's swap) the batch joins it; otherwise it commits alone.
    if (db.isTransaction) await applyEvents(db, envelopes, tables);
    else await db.transaction().execute((trx) => applyEvents(trx, envelopes, tables));
    position = batch[batch.length - 1].position;
    options.onBatch?.(position);
  }
  return position;
}

/**
 * Rebuilds `keys` and `security_log` from the event store while the projector keeps consuming and reads
 * keep answering: fill fresh tables with the read models of the events up to the head H (set-based, in SQL:
 * bulkReplayInto), follow the live checkpoint event by event until close to it, then in one transaction holding
 * the projector's checkpoint lock apply what the projector committed meanwhile (or, if the replay is ahead, move
 * the checkpoint up to H) and swap the tables by renaming.
 * `key_usage` is deliberately not among the swapped tables: it is usage telemetry, not derived from the events,
 * so a rebuild could not recreate it and leaves it as it is.
 */
export async function rebuildReadModels(db: Db, databaseUrl: string, options: RebuildOptions = {}): Promise<RebuildResult> {
  const batchSize = options.batchSize ?? 1000;
  const report = options.onProgress ?? (() => undefined);
  const lock = new SessionLock(databaseUrl, REBUILD_LOCK_KEY);
  if (!(await lock.tryAcquire(() => undefined))) throw new RebuildInProgressError();
  try {
    await dropTables(db, RETIRED_TABLES); // left over if an earlier rebuild died after its swap
    await createTablesLikeLive(db, REBUILD_TABLES);
    const head = await headPosition(db);
    report({ phase: 'replay', position: 0, target: head });
    // Up to H in bulk (set-based SQL); what the projector commits meanwhile is little and follows event by event.
    await bulkReplayInto(db, REBUILD_TABLES, head);
    let built = head;
    report({ phase: 'replay', position: head, target: head });

    // Follow the projector outside the lock so the locked swap only has a short tail to apply.
    for (;;) {
      const live = await readCheckpoint(db, PROJECTOR_CHECKPOINT);
      if (live - built <= batchSize) break;
      report({ phase: 'catch-up', position: built, target: live });
      built = await replayInto(db, REBUILD_TABLES, { after: built, to: live, batchSize });
      built = Math.max(built, live);
    }

    await options.beforeSwap?.();
    report({ phase: 'swap', position: built, target: built });
    const checkpoint = await db.transaction().execute(async (trx) => {
      // The live tables first, then the checkpoint row: the order a projector's write statement takes them in (its
      // table locks when it is planned, the row when it runs), so the two never wait for each other in a cycle.
      await sql`lock table ${sql.table(LIVE_TABLES.keys)}, ${sql.table(LIVE_TABLES.securityLog)} in access exclusive mode`.execute(trx);
      const live = await lockProjectorCheckpoint(trx);
      if (live > built) await replayInto(trx, REBUILD_TABLES, { after: built, to: live, batchSize });
      // Saved even when unchanged: a new row version makes a projector batch read before the swap write nothing
      // (writeBatch), instead of applying rows computed from the retired tables to the new ones. When the rebuilt
      // tables are ahead of the projector, this also moves its checkpoint so it skips what they hold.
      await saveCheckpoint(trx, PROJECTOR_CHECKPOINT, Math.max(live, built));
      await sql`alter table ${sql.table(LIVE_TABLES.keys)} rename to ${sql.table(RETIRED_TABLES.keys)}`.execute(trx);
      await sql`alter table ${sql.table(LIVE_TABLES.securityLog)} rename to ${sql.table(RETIRED_TABLES.securityLog)}`.execute(trx);
      await sql`alter table ${sql.table(REBUILD_TABLES.keys)} rename to ${sql.table(LIVE_TABLES.keys)}`.execute(trx);
      await sql`alter table ${sql.table(REBUILD_TABLES.securityLog)} rename to ${sql.table(LIVE_TABLES.securityLog)}`.execute(trx);
      return Math.max(live, built);
    });
    await dropTables(db, RETIRED_TABLES);
    const counts = await sql<{ keys: number; log: number }>`
      select (select count(*) from keys) as keys, (select count(*) from security_log) as log`.execute(db);
    report({ phase: 'done', position: checkpoint, target: checkpoint });
    return { replayedTo: head, checkpoint, keys: counts.rows[0].keys, logEntries: counts.rows[0].log };
  } finally {
    await lock.release();
  }
}
