import { randomUUID } from 'node:crypto';
import { type Insertable, sql, type Transaction } from 'kysely';
import type { DomainEvent, EventEnvelope, EventMetadata } from '@keys/domain';
import type { Database } from './database';
import { InvalidAppendRequestError, StreamVersionConflictError } from './event-store.errors';
import { APPEND_LOCK_KEY, type EventsTable, GENESIS_HASH } from './events.table';
import { type EventHashTemplate, eventHashTemplate, hashFromTemplate } from './hash-chain';

/** One event to append; eventId and occurredAt are generated when left out. */
export type NewEvent = DomainEvent & { eventId?: string; metadata: EventMetadata; occurredAt?: string };

export interface AppendRequest {
  streamId: string;
  /** The stream version the caller decided on; 0 = the stream must not exist yet. */
  expectedVersion: number;
  /** Account the events belong to (the relay's subject needs it); null when none. */
  accountId: number | null;
  events: NewEvent[];
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Takes the lock that serializes appends until the transaction ends. Re-entrant. */
export async function takeAppendLock(trx: Transaction<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(${sql.lit(APPEND_LOCK_KEY)})`.execute(trx);
}

/**
 * Appends `request.events` to the stream, inside the caller's transaction (so the caller can update a
 * write-side table atomically and decides when to commit). Positions are assigned here, gap-free,
 * under a transaction-level advisory lock held until commit: no reader can see position N+1 before N.
 */
export async function appendToStream(
  trx: Transaction<Database>,
  request: AppendRequest,
): Promise<EventEnvelope[]> {
  validate(request);
  await takeAppendLock(trx);
  return appendUnderLock(trx, request);
}

/** appendToStream for a caller that already holds the append lock in `trx`. */
export async function appendUnderLock(
  trx: Transaction<Database>,
  request: AppendRequest,
): Promise<EventEnvelope[]> {
  validate(request);
  const state = await trx
    .selectNoFrom((eb) => [
      eb
        .selectFrom('events')
        .select((e) => e.fn.max('stream_version').as('v'))
        .where('stream_id', '=', request.streamId)
        .as('stream_version'),
      eb.selectFrom('events').select('position').orderBy('position', 'desc').limit(1).as('head_position'),
      eb.selectFrom('events').select('hash').orderBy('position', 'desc').limit(1).as('head_hash'),
      sql<string>`current_setting('transaction_isolation')`.as('isolation'),
    ])
    .executeTakeFirstOrThrow();

  if (state.isolation !== 'read committed') {
    // A snapshot older than the lock would hide the previous appender's commit and reuse its position.
    throw new InvalidAppendRequestError(
      `appendToStream needs a READ COMMITTED transaction, got ${state.isolation}`,
    );
  }
  const actual = state.stream_version ?? 0;
  if (actual !== request.expectedVersion) {
    throw new StreamVersionConflictError(request.streamId, request.expectedVersion, actual);
  }

  const built = buildAppend(request, { position: state.head_position ?? 0, hash: state.head_hash ?? GENESIS_HASH });
  await trx.insertInto('events').values(built.rows).execute();
  return built.envelopes;
}

export interface StoreHead {
  position: number;
  hash: string;
}

/** One event of a request with everything that does not depend on its position worked out. */
interface PreparedEvent {
  eventId: string;
  type: string;
  streamVersion: number;
  occurredAt: string;
  /** The JSON text stored, and its parse: the envelope returned equals the one read back from jsonb. */
  dataJson: string;
  metadataJson: string;
  data: unknown;
  metadata: unknown;
  hash: EventHashTemplate;
}

export interface PreparedAppend {
  request: AppendRequest;
  events: PreparedEvent[];
}

/**
 * The part of buildAppend that does not depend on the store's head (no I/O, no position): serializing, ids, times
 * and the canonical JSON for the hash. The group-commit appender runs it when a request arrives, outside the append
 * lock, so the lock is held only for putting in positions and hashing. Expects a validated request.
 */
export function prepareAppend(request: AppendRequest): PreparedAppend {
  const events = request.events.map((event, i): PreparedEvent => {
    const dataJson = JSON.stringify(event.data);
    const metadataJson = JSON.stringify(event.metadata);
    const eventId = event.eventId?.toLowerCase() ?? randomUUID();
    const streamVersion = request.expectedVersion + i + 1;
    const occurredAt = new Date(event.occurredAt ?? Date.now()).toISOString();
    const data = JSON.parse(dataJson) as unknown;
    const metadata = JSON.parse(metadataJson) as EventMetadata;
    const hash = eventHashTemplate({ eventId, type: event.type, streamId: request.streamId, streamVersion, occurredAt, data, metadata, accountId: request.accountId } as Omit<EventEnvelope, 'position'>);
    return { eventId, type: event.type, streamVersion, occurredAt, dataJson, metadataJson, data, metadata, hash };
  });
  return { request, events };
}

/**
 * Positions, hashes and rows for one request appended after `head` (no I/O). The caller holds the append
 * lock and has checked the stream version.
 */
export function buildAppend(
  request: AppendRequest | PreparedAppend,
  head: StoreHead,
): { rows: Insertable<EventsTable>[]; envelopes: EventEnvelope[]; head: StoreHead } {
  const prepared = 'request' in request ? request : prepareAppend(request);
  const { streamId, accountId } = prepared.request;
  let position = head.position;
  let prevHash = head.hash;
  const envelopes: EventEnvelope[] = [];
  const rows: Insertable<EventsTable>[] = [];
  for (const event of prepared.events) {
    position += 1;
    const hash = hashFromTemplate(prevHash, event.hash, position);
    rows.push({
      position,
      event_id: event.eventId,
      stream_id: streamId,
      stream_version: event.streamVersion,
      type: event.type,
      account_id: accountId,
      occurred_at: event.occurredAt,
      data: event.dataJson,
      metadata: event.metadataJson,
      prev_hash: prevHash,
      hash,
    });
    envelopes.push({
      eventId: event.eventId,
      type: event.type,
      position,
      streamId,
      streamVersion: event.streamVersion,
      occurredAt: event.occurredAt,
      data: event.data,
      metadata: event.metadata,
    } as EventEnvelope);
    prevHash = hash;
  }
  return { rows, envelopes, head: { position, hash: prevHash } };
}

export function validate(request: AppendRequest): void {
  if (!Number.isInteger(request.expectedVersion) || request.expectedVersion < 0) {
    throw new InvalidAppendRequestError(
      `expectedVersion must be an integer >= 0, got ${request.expectedVersion}`,
    );
  }
  if (request.events.length === 0) {
    throw new InvalidAppendRequestError(`nothing to append to stream ${request.streamId}`);
  }
  if (request.streamId.length === 0) throw new InvalidAppendRequestError('streamId is empty');
  if (request.accountId !== null && !(Number.isSafeInteger(request.accountId) && request.accountId >= 0)) {
    throw new InvalidAppendRequestError(`accountId must be null or a safe integer >= 0, got ${request.accountId}`);
  }
  if (!storable(request.streamId)) throw new InvalidAppendRequestError('streamId holds a character Postgres cannot store');
  for (const event of request.events) {
    // Refused here rather than by Postgres, which would fail the statement shared with other requests.
    if (!storable(event.type) || !storable(event.data) || !storable(event.metadata)) {
      throw new InvalidAppendRequestError(`an event of stream ${request.streamId} holds a character Postgres cannot store (NUL or a lone surrogate)`);
    }
    if (event.eventId !== undefined && !UUID.test(event.eventId.toLowerCase())) {
      throw new InvalidAppendRequestError(`eventId ${event.eventId} is not a UUID`);
    }
    if (event.occurredAt !== undefined && Number.isNaN(Date.parse(event.occurredAt))) {
      throw new InvalidAppendRequestError(`occurredAt ${event.occurredAt} is not a date`);
    }
  }
}

// With the u flag \p{Cs} matches only unpaired surrogates: a pair is one code point.
// eslint-disable-next-line no-control-regex -- NUL is exactly what is looked for
const UNSTORABLE = /[\u0000\p{Cs}]/u;

/**
 * Whether every string in `value` (keys too) can be stored as text and jsonb: Postgres refuses NUL in both, and
 * JSON.stringify writes a lone surrogate as an escape (\\ud800) that jsonb refuses.
 */
export function storable(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return !UNSTORABLE.test(value);
  if (typeof value !== 'object' || value === null) return true;
  // Deeper than any event; JSON.stringify would overflow the stack long before Postgres saw it anyway.
  if (depth > 64) return false;
  if (Array.isArray(value)) return value.every((v) => storable(v, depth + 1));
  return Object.entries(value).every(([k, v]) => storable(k) && storable(v, depth + 1));
}
