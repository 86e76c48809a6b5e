import { type ControlledTransaction, type Insertable, type Kysely, sql, type Transaction } from 'kysely';
import type { EventEnvelope } from '@keys/domain';
import { type AppendRequest, type PreparedAppend, type StoreHead, UUID, buildAppend, prepareAppend, storable, validate } from './append';
import type { Database } from './database';
import { EventAppenderClosedError, InvalidAppendRequestError, StreamVersionConflictError } from './event-store.errors';
import { APPEND_LOCK_KEY, type EventsTable, GENESIS_HASH } from './events.table';
import type { KeyIndexTable } from './key-index.table';

export interface AppendOptions {
  /** key_index rows written with the events (batched across requests: the fast path). */
  keyIndex?: Insertable<KeyIndexTable>[];
  /**
   * Runs in the append's transaction, inside its own savepoint, and may refuse by throwing: its writes
   * and the events commit or roll back together. Slower; use only where a refusal is possible.
   */
  afterAppend?: (trx: Transaction<Database>, envelopes: EventEnvelope[]) => Promise<void>;
}

export interface EventAppenderOptions {
  /** Most requests committed together; defaults to 256. */
  maxBatchSize?: number;
}

interface Pending {
  request: AppendRequest;
  prepared: PreparedAppend;
  options: AppendOptions | undefined;
  resolve(envelopes: EventEnvelope[]): void;
  reject(error: unknown): void;
}

const SAVEPOINT = 'append_request';

/**
 * Group commit over the serialized append (DESIGN §3.3): requests that arrive while a batch is being
 * written wait for the next one, which then takes the append lock once and commits them all together.
 * One request's failure rejects only its own promise: a refused check or hook at once, a statement Postgres
 * refuses by writing the batch again with one savepoint per request (see flushBatch).
 */
export class EventAppender {
  private readonly queue: Pending[] = [];
  private readonly maxBatchSize: number;
  private flushing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly db: Kysely<Database>,
    options: EventAppenderOptions = {},
  ) {
    this.maxBatchSize = options.maxBatchSize ?? 256;
  }

  append(request: AppendRequest, options?: AppendOptions): Promise<EventEnvelope[]> {
    if (this.closed) return Promise.reject(new EventAppenderClosedError());
    let prepared: PreparedAppend;
    try {
      validate(request);
      if (options?.keyIndex && !storable(options.keyIndex)) throw new InvalidAppendRequestError('a key_index row holds a character Postgres cannot store');
      // Everything that does not need the head, done now while an earlier batch holds the append lock.
      prepared = prepareAppend(request);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<EventEnvelope[]>((resolve, reject) => {
      this.queue.push({ request, prepared, options, resolve, reject });
      this.startFlushing();
    });
  }

  /** Refuses new requests and waits until every queued one is settled. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing !== null) await this.flushing;
  }

  private startFlushing(): void {
    if (this.flushing !== null) return;
    this.flushing = this.drain().finally(() => {
      this.flushing = null;
      if (this.queue.length > 0) this.startFlushing();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) await this.flushBatch();
  }

  private async flushBatch(): Promise<void> {
    let trx: ControlledTransaction<Database>;
    try {
      trx = await this.db.startTransaction().execute();
    } catch (error) {
      for (const p of this.queue.splice(0, this.maxBatchSize)) p.reject(error);
      return;
    }
    // Taken when the transaction has begun: everything that queued meanwhile joins this batch.
    const batch = this.queue.splice(0, this.maxBatchSize);
    let outcomes: Outcome[];
    try {
      outcomes = await writeBatch(trx, batch, false);
    } catch (error) {
      // The batch's statements are shared by many tenants, so one request Postgres refuses (bad data, a unique
      // violation) must not fail the others: write them again, each alone. Only a lost connection, after which
      // nothing can be known of the commit, fails the whole batch.
      outcomes = (await rolledBack(trx)) ? await isolate(this.db, batch) : batch.map((pending) => ({ pending, error }));
    }
    for (const outcome of outcomes) {
      if ('error' in outcome) outcome.pending.reject(outcome.error);
      else outcome.pending.resolve(outcome.envelopes);
    }
  }
}

type Outcome = { pending: Pending; envelopes: EventEnvelope[] } | { pending: Pending; error: unknown };

/**
 * The batch again after a failed attempt, each request in its own savepoint so a refusal names its request.
 * A refusal at COMMIT (a deferred constraint) names none: then each request gets a transaction of its own.
 */
async function isolate(db: Kysely<Database>, batch: Pending[]): Promise<Outcome[]> {
  let trx: ControlledTransaction<Database>;
  try {
    trx = await db.startTransaction().execute();
  } catch (error) {
    return batch.map((pending) => ({ pending, error }));
  }
  try {
    return await writeBatch(trx, batch, true);
  } catch (error) {
    if (!(await rolledBack(trx)) || batch.length === 1) return batch.map((pending) => ({ pending, error }));
    const outcomes: Outcome[] = [];
    for (const pending of batch) outcomes.push(...(await isolate(db, [pending])));
    return outcomes;
  }
}

/** Whether the failed transaction was rolled back, i.e. the connection still works and nothing was committed. */
async function rolledBack(trx: ControlledTransaction<Database>): Promise<boolean> {
  try {
    await trx.rollback().execute();
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes and commits the batch; on any failure throws with the transaction left for the caller to roll back.
 * Fast (isolated = false): requests without a hook share one INSERT. Isolated: every request in its own savepoint.
 */
async function writeBatch(trx: ControlledTransaction<Database>, batch: Pending[], isolated: boolean): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const state = await lockAndReadBatchState(trx, batch);
  let head = state.head;
  // Requests without a hook cannot fail once checked here (barring a refusal by Postgres, see flushBatch), so their
  // rows go out in one INSERT (and one key_index upsert) for the whole batch: a handful of round trips per batch.
  let fast: { rows: Insertable<EventsTable>[]; index: Insertable<KeyIndexTable>[]; done: Outcome[] } = { rows: [], index: [], done: [] };
  const flushFast = async () => {
    await writeRows(trx, fast.rows, fast.index);
    outcomes.push(...fast.done);
    fast = { rows: [], index: [], done: [] };
  };
  for (const pending of batch) {
    const { request, options } = pending;
    try {
      check(request, state);
    } catch (error) {
      outcomes.push({ pending, error });
      continue;
    }
    const built = buildAppend(pending.prepared, head);
    if (!options?.afterAppend && !isolated) {
      fast.rows.push(...built.rows);
      fast.index.push(...(options?.keyIndex ?? []));
      fast.done.push({ pending, envelopes: built.envelopes });
      head = built.head;
      record(request, state);
      continue;
    }
    // A hook may refuse (e.g. "last billing key"): write what came before, then this one in a savepoint.
    await flushFast();
    const sp = await trx.savepoint(SAVEPOINT).execute();
    try {
      await writeRows(sp, built.rows, options?.keyIndex ?? []);
      if (options?.afterAppend) await options.afterAppend(sp, built.envelopes);
      await sp.releaseSavepoint(SAVEPOINT).execute();
      outcomes.push({ pending, envelopes: built.envelopes });
      head = built.head;
      record(request, state);
    } catch (error) {
      outcomes.push({ pending, error });
      // If this fails too the transaction is unusable, and the caller fails or isolates the whole batch.
      await (await sp.rollbackToSavepoint(SAVEPOINT).execute()).releaseSavepoint(SAVEPOINT).execute();
    }
  }
  await flushFast();
  await trx.commit().execute();
  return outcomes;
}

/**
 * The events and their key_index rows in one statement (one round trip), each table's rows as `unnest` arrays:
 * one parameter per column instead of one per value, so the statement's text and parameter count do not grow
 * with the batch. With several rows for one key the last one wins (ON CONFLICT cannot touch a row twice).
 */
async function writeRows(trx: Transaction<Database>, rows: Insertable<EventsTable>[], index: Insertable<KeyIndexTable>[]): Promise<void> {
  if (rows.length === 0 && index.length === 0) return;
  const insertEvents = sql`insert into events (position, event_id, stream_id, stream_version, type, account_id, occurred_at, data, metadata, prev_hash, hash)
    select * from unnest(${column(rows, 'position')}::int8[], ${column(rows, 'event_id')}::uuid[], ${column(rows, 'stream_id')}::text[],
      ${column(rows, 'stream_version')}::int4[], ${column(rows, 'type')}::text[], ${column(rows, 'account_id')}::int8[],
      ${column(rows, 'occurred_at')}::timestamptz[], ${column(rows, 'data')}::jsonb[], ${column(rows, 'metadata')}::jsonb[],
      ${column(rows, 'prev_hash')}::text[], ${column(rows, 'hash')}::text[])`;
  if (index.length === 0) {
    await insertEvents.execute(trx);
    return;
  }
  const latest = [...new Map(index.map((row) => [row.key_id, row])).values()];
  const upsertIndex = sql`insert into key_index (key_id, account_id, key_type, hash, prefix, name, active, expires_at, expired, deleted, created_at, updated_at, version)
    select * from unnest(${column(latest, 'key_id')}::int8[], ${column(latest, 'account_id')}::int8[], ${column(latest, 'key_type')}::text[],
      ${column(latest, 'hash')}::text[], ${column(latest, 'prefix')}::text[], ${column(latest, 'name')}::text[], ${column(latest, 'active')}::bool[],
      ${column(latest, 'expires_at')}::timestamptz[], ${column(latest, 'expired')}::bool[], ${column(latest, 'deleted')}::bool[],
      ${column(latest, 'created_at')}::timestamptz[], ${column(latest, 'updated_at')}::timestamptz[], ${column(latest, 'version')}::int4[])
    on conflict (key_id) do update set name = excluded.name, active = excluded.active, expires_at = excluded.expires_at,
      expired = excluded.expired, deleted = excluded.deleted, updated_at = excluded.updated_at, version = excluded.version`;
  // A data-modifying CTE runs to completion even though the outer statement does not read it.
  await (rows.length === 0 ? upsertIndex : sql`with new_events as (${insertEvents}) ${upsertIndex}`).execute(trx);
}

function column<T, K extends keyof T>(rows: T[], key: K): Array<T[K] | null> {
  return rows.map((row) => row[key] ?? null);
}

interface BatchState {
  head: StoreHead;
  versions: Map<string, number>;
  eventIds: Set<string>;
}

/**
 * Takes the append lock and reads the head, the batch's stream versions and already-stored event ids: one
 * statement (append_batch_state, migration 006), whose reads take their snapshots after the lock is granted.
 */
async function lockAndReadBatchState(trx: Transaction<Database>, batch: Pending[]): Promise<BatchState> {
  const streamIds = [...new Set(batch.map((p) => p.request.streamId))];
  const eventIds = batch.flatMap((p) => p.request.events.flatMap((e) => (e.eventId && UUID.test(e.eventId.toLowerCase()) ? [e.eventId.toLowerCase()] : [])));
  const { rows } = await sql<{ head_position: number | null; head_hash: string | null; isolation: string; versions: Array<[string, number]>; existing: string[] }>`
    select * from append_batch_state(${sql.lit(APPEND_LOCK_KEY)}, ${streamIds}::text[], ${eventIds}::uuid[])`.execute(trx);
  const row = rows[0];
  if (row.isolation !== 'read committed') {
    throw new InvalidAppendRequestError(`appends need a READ COMMITTED transaction, got ${row.isolation}`);
  }
  return {
    head: { position: row.head_position ?? 0, hash: row.head_hash ?? GENESIS_HASH },
    versions: new Map(row.versions),
    eventIds: new Set(row.existing),
  };
}

function check(request: AppendRequest, state: BatchState): void {
  const actual = state.versions.get(request.streamId) ?? 0;
  if (actual !== request.expectedVersion) throw new StreamVersionConflictError(request.streamId, request.expectedVersion, actual);
  const ids = request.events.flatMap((e) => (e.eventId ? [e.eventId.toLowerCase()] : []));
  if (new Set(ids).size !== ids.length || ids.some((id) => state.eventIds.has(id))) {
    throw new InvalidAppendRequestError(`an event id of stream ${request.streamId} is already stored`);
  }
}

/** What later requests of the same batch must see of this one. */
function record(request: AppendRequest, state: BatchState): void {
  state.versions.set(request.streamId, request.expectedVersion + request.events.length);
  for (const e of request.events) if (e.eventId) state.eventIds.add(e.eventId.toLowerCase());
}
