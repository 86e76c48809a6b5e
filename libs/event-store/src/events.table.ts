import type { ColumnType, Selectable } from 'kysely';

/** Row shape of `events`. Positions and ids are int8 in Postgres and JS numbers here (see database.ts). */
export interface EventsTable {
  /** Assigned by the appender under the append lock: 1, 2, 3 … without holes. */
  position: number;
  event_id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  account_id: number | null;
  /** Stored with millisecond precision so `toISOString()` renders it exactly as it was hashed. */
  occurred_at: ColumnType<Date, string, never>;
  /** jsonb: written as a JSON string so arrays are never turned into Postgres arrays. */
  data: ColumnType<unknown, string, never>;
  metadata: ColumnType<unknown, string, never>;
  prev_hash: string;
  hash: string;
}

export type EventRow = Selectable<EventsTable>;

/**
 * Key of the transaction-level advisory lock that serializes appends (docs/events.md). Held until
 * commit, so a reader can never see position N+1 before N.
 */
export const APPEND_LOCK_KEY = 7_362_010_001;

/** prev_hash of the very first event. */
export const GENESIS_HASH = '0'.repeat(64);
