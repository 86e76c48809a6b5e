import { type Kysely, sql } from 'kysely';
import type { DomainEventType } from '@keys/domain';
import type { Database } from '@keys/event-store';
import type { IndexRow } from './verifier-index';

/**
 * The events at positions `position + 1` to `position + limit` (fewer at the head), with only what the index
 * folds, as text for decodeIndexRows. Gap-free like readAllAfter (appends are serialized until commit).
 *
 * Postgres extracts the fields from the jsonb `data` and joins the whole batch into one text value, one line
 * per event: `position TAB type TAB keyId TAB accountId TAB keyType TAB hash TAB expiresAt TAB name`, an
 * empty field for null, the name last as a JSON string literal (JSON escapes tabs and newlines, so a name
 * cannot break the layout). For a million-event catch-up this is what keeps the cold start short and small:
 * the driver decodes one string per batch instead of a row object and eight strings per event, and the
 * garbage that built up the heap (to ~3× the index) is gone.
 */
export async function readIndexBatch(db: Kysely<Database>, position: number, limit: number): Promise<string> {
  // `||` and coalesce rather than concat(): concat formats every argument through the generic output path,
  // noticeably slower per row. The aggregate takes the rows in the subquery's order without an ORDER BY of
  // its own (which sorted every batch again); decodeIndexRows does not rely on it anyway.
  const { rows } = await sql<{ batch: string | null }>`
    select string_agg(position::text || E'\t' || type || E'\t' || coalesce(data->>'keyId', '') || E'\t' || coalesce(data->>'accountId', '')
                        || E'\t' || coalesce(data->>'keyType', '') || E'\t' || coalesce(data->>'hash', '') || E'\t' || coalesce(data->>'expiresAt', '')
                        || E'\t' || coalesce((data->'name')::text, ''), E'\n') as batch
      from (select position, type, data from events where position > ${position} and position <= ${position + limit} order by position) batch`.execute(db);
  return rows[0]?.batch ?? '';
}

/**
 * Calls `visit` with each event of a readIndexBatch text, in position order. The row object is reused from one
 * call to the next (a million short-lived row objects were most of the catch-up's garbage): read it, do not keep it.
 * Returns the number of rows and the highest position.
 */
export function decodeIndexRows(text: string, visit: (row: IndexRow) => void): { rows: number; last: number } {
  const row: IndexRow = { position: 0, type: 'AccountCreated', keyId: null, accountId: null, keyType: null, name: null, hash: null, expiresAt: null };
  let rows = 0;
  let last = 0;
  for (const start of lineStartsInOrder(text)) {
    let at = start;
    let stop = text.indexOf('\t', at);
    row.position = integer(text, at, stop);
    at = stop + 1;
    stop = text.indexOf('\t', at);
    row.type = text.slice(at, stop) as DomainEventType;
    at = stop + 1;
    stop = text.indexOf('\t', at);
    row.keyId = stop === at ? null : integer(text, at, stop);
    at = stop + 1;
    stop = text.indexOf('\t', at);
    row.accountId = stop === at ? null : integer(text, at, stop);
    at = stop + 1;
    stop = text.indexOf('\t', at);
    row.keyType = stop === at ? null : stop - at === 5 && text.startsWith('proxy', at) ? 'proxy' : text.slice(at, stop);
    at = stop + 1;
    stop = text.indexOf('\t', at);
    row.hash = stop === at ? null : text.slice(at, stop);
    at = stop + 1;
    stop = text.indexOf('\t', at);
    row.expiresAt = stop === at ? null : text.slice(at, stop);
    at = stop + 1;
    stop = text.indexOf('\n', at);
    if (stop < 0) stop = text.length;
    row.name = stop === at ? null : jsonString(text, at, stop);
    rows++;
    if (row.position > last) last = row.position;
    visit(row);
  }
  return { rows, last };
}

/**
 * Where each line starts, in position order. SQL does not promise that an aggregate sees its input in the
 * subquery's order (it does in practice, and an ORDER BY inside the aggregate sorted every batch again), so
 * this checks, and sorts the lines by position only if they are not already in order.
 */
function lineStartsInOrder(text: string): number[] {
  const starts: number[] = [];
  const positions: number[] = [];
  let ordered = true;
  let previous = 0;
  for (let at = 0; at < text.length; ) {
    const position = integer(text, at, text.indexOf('\t', at));
    if (position < previous) ordered = false;
    previous = position;
    starts.push(at);
    positions.push(position);
    const newline = text.indexOf('\n', at);
    at = newline < 0 ? text.length : newline + 1;
  }
  if (ordered) return starts;
  return starts.map((start, i) => [positions[i], start]).sort((a, b) => a[0] - b[0]).map(([, start]) => start);
}

/** The JSON string literal at text[from, to): its characters between the quotes unless it has an escape. */
function jsonString(text: string, from: number, to: number): string {
  for (let i = from + 1; i < to - 1; i++) {
    if (text.charCodeAt(i) === 92) return JSON.parse(text.slice(from, to)) as string;
  }
  return text.slice(from + 1, to - 1);
}

function integer(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) throw new Error(`not an integer in the event store batch: ${text.slice(from, to)}`);
    value = value * 10 + digit;
  }
  if (!Number.isSafeInteger(value) || from === to) throw new Error(`integer out of range in the event store batch: ${text.slice(from, to)}`);
  return value;
}
