import { type ControlledTransaction, type Insertable, type Kysely, sql, type Transaction } from 'kysely';
import type { EventEnvelope } from '@keys/domain';
import { type AppendRequest, type PreparedAppend, type StoreHead, UUID, buildAppend, prepareAppend, validate } from './append';
import type { Database } from './database';
import { EventAppenderClosedError, InvalidAppendRequestError, StreamVersionConflictError } from './event-store.errors';
import { APPEND_LOCK_KEY, type EventsTable, GENESIS_HASH } from './events.table';

/**
 * A projection kept in the append's transaction: it commits with the events or not at all. It gets every
 * envelope the statement wrote (a whole group-commit batch, in position order) and should write them in one
 * statement, so an append costs one round trip more per batch, not per request.
 */
export interface InlineProjection {
  readonly name: string;
  project(trx: Transaction<Database>, envelopes: readonly EventEnvelope[]): Promise<void>;
}

export interface AppendOptions {
  /**
   * Runs in the append's transaction, inside its own savepoint, after the events and the inline projections
   * are written, and may refuse by throwing: its writes and the events commit or roll back together.
   * Slower; use only where a refusal is possible.
   */
  afterAppend?: (trx: Transaction<Database>, envelopes: EventEnvelope[]) => Promise<void>;
}

export interface EventAppenderOptions {
  /** Most requests committed together; defaults to 256. */
  maxBatchSize?: number;
  /** Written with every batch, in the append's transaction, in this order. */
  inlineProjections?: readonly InlineProjection[];
}

interface Pending {
  /** Appended together or not at all (e.g. a new key and the old one's expiry). */
  requests: AppendRequest[];
  prepared: PreparedAppend[];
  options: AppendOptions | undefined;
  resolve(envelopes: EventEnvelope[][]): void;
  reject(error: unknown): void;
}

const SAVEPOINT = 'append_request';

/**
 * Group commit over the serialized append (docs/architecture.md): requests that arrive while a batch is being
 * written wait for the next one, which then takes the append lock once and commits them all together.
 * One request's failure rejects only its own promise: a refused check or hook at once, a statement Postgres
 * refuses by writing the batch again with one savepoint per request (see flushBatch).
 */
export class EventAppender {
  private readonly queue: Pending[] = [];
  private readonly maxBatchSize: number;
  private flushing: Promise<void> | null = null;
  private closed = false;

  private readonly projections: readonly InlineProjection[];

  constructor(
    private readonly db: Kysely<Database>,
    options: EventAppenderOptions = {},
  ) {
    this.maxBatchSize = options.maxBatchSize ?? 256;
    this.projections = options.inlineProjections ?? [];
  }

  /** Whether `projection` is written with every append of this appender. */
  projects(projection: InlineProjection): boolean {
    return this.projections.includes(projection);
  }

  append(request: AppendRequest, options?: AppendOptions): Promise<EventEnvelope[]> {
    return this.appendAll([request], options).then(([envelopes]) => envelopes);
  }

  /**
   * Appends to several streams atomically: every request's version check must hold, and the events commit in
   * the order given, in one transaction. Resolves with each request's envelopes.
   */
  appendAll(requests: AppendRequest[], options?: AppendOptions): Promise<EventEnvelope[][]> {
    if (this.closed) return Promise.reject(new EventAppenderClosedError());
    let prepared: PreparedAppend[];
    try {
      if (requests.length === 0) throw new InvalidAppendRequestError('nothing to append');
      if (new Set(requests.map((r) => r.streamId)).size !== requests.length) {
        throw new InvalidAppendRequestError('one request per stream in an atomic append');
      }
      requests.forEach(validate);
      // Everything that does not need the head, done now while an earlier batch holds the append lock.
      prepared = requests.map(prepareAppend);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<EventEnvelope[][]>((resolve, reject) => {
      this.queue.push({ requests, prepared, options, resolve, reject });
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
      outcomes = await writeBatch(trx, batch, this.projections, false);
    } catch (error) {
      // The batch's statements are shared by many tenants, so one request Postgres refuses (bad data, a unique
      // violation) must not fail the others: write them again, each alone. Only a lost connection, after which
      // nothing can be known of the commit, fails the whole batch.
      outcomes = (await rolledBack(trx)) ? await isolate(this.db, batch, this.projections) : batch.map((pending) => ({ pending, error }));
    }
    for (const outcome of outcomes) {
      if ('error' in outcome) outcome.pending.reject(outcome.error);
      else outcome.pending.resolve(outcome.envelopes);
    }
  }
}

type Outcome = { pending: Pending; envelopes: EventEnvelope[][] } | { pending: Pending; error: unknown };

/**
 * The batch again after a failed attempt, each request in its own savepoint so a refusal names its request.
 * A refusal at COMMIT (a deferred constraint) names none: then each request gets a transaction of its own.
 */
async function isolate(db: Kysely<Database>, batch: Pending[], projections: readonly InlineProjection[]): Promise<Outcome[]> {
  let trx: ControlledTransaction<Database>;
  try {
    trx = await db.startTransaction().execute();
  } catch (error) {
    return batch.map((pending) => ({ pending, error }));
  }
  try {
    return await writeBatch(trx, batch, projections, true);
  } catch (error) {
    if (!(await rolledBack(trx)) || batch.length === 1) return batch.map((pending) => ({ pending, error }));
    const outcomes: Outcome[] = [];
    for (const pending of batch) outcomes.push(...(await isolate(db, [pending], projections)));
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
async function writeBatch(
  trx: ControlledTransaction<Database>,
  batch: Pending[],
  projections: readonly InlineProjection[],
  isolated: boolean,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const state = await lockAndReadBatchState(trx, batch);
  let head = state.head;
  // Requests without a hook cannot fail once checked here (barring a refusal by Postgres, see flushBatch), so their
  // rows go out in one INSERT (and one statement per inline projection) for the whole batch.
  let fast: { rows: Insertable<EventsTable>[]; envelopes: EventEnvelope[]; done: Outcome[] } = { rows: [], envelopes: [], done: [] };
  const write = async (to: Transaction<Database>, rows: Insertable<EventsTable>[], envelopes: EventEnvelope[]) => {
    if (rows.length === 0) return;
    await insertEvents(to, rows);
    for (const projection of projections) await projection.project(to, envelopes);
  };
  const flushFast = async () => {
    await write(trx, fast.rows, fast.envelopes);
    outcomes.push(...fast.done);
    fast = { rows: [], envelopes: [], done: [] };
  };
  for (const pending of batch) {
    const { requests, options } = pending;
    try {
      check(requests, state);
    } catch (error) {
      outcomes.push({ pending, error });
      continue;
    }
    let next = head;
    const built = pending.prepared.map((prepared) => {
      const one = buildAppend(prepared, next);
      next = one.head;
      return one;
    });
    const rows = built.flatMap((b) => b.rows);
    const envelopes = built.map((b) => b.envelopes);
    if (!options?.afterAppend && !isolated) {
      fast.rows.push(...rows);
      fast.envelopes.push(...envelopes.flat());
      fast.done.push({ pending, envelopes });
      head = next;
      record(requests, state);
      continue;
    }
    // A hook may refuse (e.g. "last billing key"): write what came before, then this one in a savepoint.
    await flushFast();
    const sp = await trx.savepoint(SAVEPOINT).execute();
    try {
      await write(sp, rows, envelopes.flat());
      if (options?.afterAppend) await options.afterAppend(sp, envelopes.flat());
      await sp.releaseSavepoint(SAVEPOINT).execute();
      outcomes.push({ pending, envelopes });
      head = next;
      record(requests, state);
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
 * The events in one statement, as `unnest` arrays: one parameter per column instead of one per value, so the
 * statement's text and parameter count do not grow with the batch.
 */
async function insertEvents(trx: Transaction<Database>, rows: Insertable<EventsTable>[]): Promise<void> {
  // The columns as array literals built here, the JSON documents as one JSON array each: pg's own conversion of
  // JS arrays quotes and escapes every element with two regular expressions, which was a seventh of the
  // appender's CPU per event. Positions, versions, account ids, UUIDs, hex hashes and ISO times need no quoting.
  await sql`insert into events (position, event_id, stream_id, stream_version, type, account_id, occurred_at, data, metadata, prev_hash, hash)
    select * from rows from (unnest(${plainArray(rows, 'position')}::int8[]), unnest(${plainArray(rows, 'event_id')}::uuid[]),
      unnest(${quotedArray(rows, 'stream_id')}::text[]), unnest(${plainArray(rows, 'stream_version')}::int4[]),
      unnest(${quotedArray(rows, 'type')}::text[]), unnest(${plainArray(rows, 'account_id')}::int8[]),
      unnest(${plainArray(rows, 'occurred_at')}::timestamptz[]), jsonb_array_elements(${jsonArray(rows, 'data')}::jsonb),
      jsonb_array_elements(${jsonArray(rows, 'metadata')}::jsonb), unnest(${plainArray(rows, 'prev_hash')}::text[]),
      unnest(${plainArray(rows, 'hash')}::text[]))`.execute(trx);
}

type EventRow = Insertable<EventsTable>;

/** An array literal of values that never need quoting (numbers, UUIDs, hex, ISO times), nulls as NULL. */
function plainArray(rows: EventRow[], key: 'position' | 'event_id' | 'stream_version' | 'account_id' | 'occurred_at' | 'prev_hash' | 'hash'): string {
  let out = '{';
  for (let i = 0; i < rows.length; i++) {
    const value = rows[i][key];
    if (i > 0) out += ',';
    out += value == null ? 'NULL' : String(value);
  }
  return `${out}}`;
}

/** An array literal of text values, each quoted, `"` and `\` escaped. */
function quotedArray(rows: EventRow[], key: 'stream_id' | 'type'): string {
  let out = '{';
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) out += ',';
    out += `"${String(rows[i][key]).replace(/["\\]/g, '\\$&')}"`;
  }
  return `${out}}`;
}

/** A JSON array of documents that are JSON text already (prepareAppend made each with JSON.stringify and parsed it back). */
function jsonArray(rows: EventRow[], key: 'data' | 'metadata'): string {
  let out = '[';
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) out += ',';
    out += rows[i][key] as string;
  }
  return `${out}]`;
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
  const requests = batch.flatMap((p) => p.requests);
  const streamIds = [...new Set(requests.map((r) => r.streamId))];
  const eventIds = requests.flatMap((r) => r.events.flatMap((e) => (e.eventId && UUID.test(e.eventId.toLowerCase()) ? [e.eventId.toLowerCase()] : [])));
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

function check(requests: AppendRequest[], state: BatchState): void {
  for (const request of requests) {
    const actual = state.versions.get(request.streamId) ?? 0;
    if (actual !== request.expectedVersion) throw new StreamVersionConflictError(request.streamId, request.expectedVersion, actual);
  }
  const ids = requests.flatMap((r) => r.events.flatMap((e) => (e.eventId ? [e.eventId.toLowerCase()] : [])));
  if (new Set(ids).size !== ids.length || ids.some((id) => state.eventIds.has(id))) {
    throw new InvalidAppendRequestError(`an event id of stream ${requests[0].streamId} is already stored`);
  }
}

/** What later requests of the same batch must see of these. */
function record(requests: AppendRequest[], state: BatchState): void {
  for (const request of requests) {
    state.versions.set(request.streamId, request.expectedVersion + request.events.length);
    for (const e of request.events) if (e.eventId) state.eventIds.add(e.eventId.toLowerCase());
  }
}
