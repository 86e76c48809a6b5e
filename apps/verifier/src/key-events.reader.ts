import type { Pool, PoolClient } from 'pg';
import type { DomainEventType } from '@keys/domain';
import type { IndexRow } from './verifier-index';

/**
 * Reads the events of position ranges, with only what the index folds, as the bytes of a binary COPY for
 * decodeIndexRows. Gap-free like readAllAfter (appends are serialized until commit).
 *
 * Why COPY, and why binary: a million-event catch-up is bound by CPU, Postgres's and ours, on the same cores.
 * Postgres extracting the fields from the jsonb `data` costs ~1.2 µs per event; building one text per event out
 * of them in SQL (`||`, string_agg) cost twice that again. COPY writes the columns out as they are, one small
 * message per row, which the driver hands over as raw bytes: no row objects, no text to decode, and in the binary
 * format no escaping either (every field is its length and its bytes, NULL apart from an empty string).
 *
 * All reads go through one connection, one at a time, but without a pause between them: the next is sent from
 * within the completion of the one before, so Postgres starts on the next batch while this process folds the
 * last. (node-postgres could queue them itself, but deprecates giving a busy client more queries.)
 */
export class IndexBatchReader {
  private busy = false;
  private readonly waiting: Array<{ start: () => void; fail: (err: Error) => void }> = [];

  constructor(private readonly client: PoolClient) {}

  /**
   * The events at positions `position + 1` to `position + limit` (fewer at the head), written into `room` if
   * given (grown if need be). Memory that is reused costs nothing; a new buffer costs a page fault per 4 KB at
   * first touch, which for a catch-up's ~150 MB of batches was a fair part of its CPU time.
   */
  read(position: number, limit: number, room?: Buffer): Promise<IndexBatch> {
    // Integers only, checked: they are written into the statement (COPY takes no parameters).
    if (!Number.isSafeInteger(position) || !Number.isSafeInteger(limit) || position < 0 || limit < 1) return Promise.reject(new Error(`bad batch range ${position}+${limit}`));
    const text = `copy (select position, type, data->>'keyId', data->>'accountId', data->>'keyType', data->>'hash', data->>'expiresAt', data->>'name'
                          from events where position > ${position} and position <= ${position + limit} order by position) to stdout with (format binary)`;
    return new Promise<IndexBatch>((resolve, reject) => {
      const start = () => {
        this.busy = true;
        copyOut(this.client, text, room ?? Buffer.allocUnsafe(64 * 1024), (err, batch) => {
          this.busy = false;
          if (err) {
            // The reads after it were meant to follow on from it: they fail with it.
            for (const next of this.waiting.splice(0)) next.fail(err);
            reject(err);
            return;
          }
          this.waiting.shift()?.start();
          resolve(batch as IndexBatch);
        });
      };
      if (this.busy) this.waiting.push({ start, fail: reject });
      else start();
    });
  }
}

/** What a read returned: `bytes`, at the start of `room`, which the caller may pass to a later read once done with them. */
export interface IndexBatch {
  bytes: Buffer;
  room: Buffer;
}

/** The highest committed position (0 for an empty store). */
export async function readHeadPosition(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ head: string | null }>('select max(position)::text as head from events');
  const head = rows[0]?.head == null ? 0 : Number(rows[0].head);
  if (!Number.isSafeInteger(head)) throw new Error(`event store head out of range: ${rows[0]?.head}`);
  return head;
}

/**
 * Runs `COPY (…) TO STDOUT` on the client and calls `done` with everything it sent, written into `room`. Called
 * from the driver's own handling of the end of the query, so a next query started from `done` goes out at once.
 *
 * Done through node-postgres's custom query interface (what pg-copy-streams and pg-cursor plug into): the client
 * hands each CopyData message to `handleCopyData`, errors to `handleError` (the query is over then, also when the
 * connection is lost), and ReadyForQuery ends a good run.
 */
function copyOut(client: PoolClient, text: string, room: Buffer, done: (err: Error | null, batch?: IndexBatch) => void): void {
  let bytes = room;
  let used = 0;
  let failed = false;
  const query = {
    submit(connection: { query(text: string): void }) {
      connection.query(text);
    },
    handleCopyData(message: { chunk: Buffer }) {
      // The chunk is a view into the driver's read buffer, which it reuses: copied out at once.
      const chunk = message.chunk;
      if (used + chunk.length > bytes.length) {
        const bigger = Buffer.allocUnsafe(Math.max(bytes.length * 2, used + chunk.length));
        bigger.set(bytes.subarray(0, used));
        bytes = bigger;
      }
      // Uint8Array#set rather than Buffer#copy: the latter's argument checks cost more than copying one row.
      bytes.set(chunk, used);
      used += chunk.length;
    },
    handleError(err: Error) {
      if (failed) return;
      failed = true;
      done(err);
    },
    handleReadyForQuery() {
      if (!failed) done(null, { bytes: bytes.subarray(0, used), room: bytes });
    },
    handleCopyInResponse(connection: { sendCopyFail(message: string): void }) {
      connection.sendCopyFail('not a COPY FROM');
    },
    handleCommandComplete() {},
    handleRowDescription() {},
    handleDataRow() {},
    handleEmptyQuery() {},
    handlePortalSuspended() {},
  };
  (client as unknown as { query(submittable: typeof query): void }).query(query);
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** The signature, a 32-bit flags field and the 32-bit length of the header extension that follows. */
const HEADER_BYTES = SIGNATURE.length + 8;
const FIELDS = 8;
const TYPES: readonly DomainEventType[] = [
  'KeyCreated',
  'KeyRenamed',
  'KeyDeactivated',
  'KeyReactivated',
  'KeyDeleted',
  'KeyExpirySet',
  'KeyExpired',
  'KeyRevoked',
  'AccountCreated',
];
const TYPE_BYTES = TYPES.map((type) => Buffer.from(type, 'utf8'));
const PROXY = Buffer.from('proxy');
const BILLING = Buffer.from('billing');

/**
 * Calls `visit` with each event of a readIndexBatch result, in the order COPY wrote them (the query's, by
 * position). The row object is reused from one call to the next (a million short-lived row objects were most of
 * the catch-up's garbage): read it, do not keep it. Its hash and name point into `bytes`. Returns the number of
 * rows and the highest position. Anything that is not exactly the expected layout throws before its row is visited.
 */
export function decodeIndexRows(bytes: Buffer, visit: (row: IndexRow) => void): { rows: number; last: number } {
  const row: IndexRow = { position: 0, type: 'AccountCreated', keyId: null, accountId: null, keyType: null, expiresAt: null, bytes, hashAt: 0, hashLength: -1, nameAt: 0, nameLength: -1 };
  let rows = 0;
  let last = 0;
  if (bytes.length === 0) return { rows, last };
  const end = bytes.length;
  if (end < HEADER_BYTES || !SIGNATURE.equals(bytes.subarray(0, SIGNATURE.length))) throw new Error('not a binary COPY from the event store');
  let at = HEADER_BYTES + uint32(bytes, HEADER_BYTES - 4, end); // signature, flags, header extension length, extension
  // Each field: its length (-1 for NULL), then that many bytes. Returns the field's start; `at` moves past it.
  const field = (): number => {
    const length = int32(bytes, at, end);
    const start = at + 4;
    at = start + Math.max(length, 0);
    if (at > end) throw new Error('a field runs past the end of the event store batch');
    return length;
  };
  for (;;) {
    if (at + 2 > end) throw new Error('the event store batch ends without its trailer');
    const fields = (bytes[at] << 8) | bytes[at + 1];
    at += 2;
    if (fields === 0xffff) break; // the trailer (-1)
    if (fields !== FIELDS) throw new Error(`a row of ${fields} fields in the event store batch`);
    if (field() !== 8) throw new Error('a position that is not an int8 in the event store batch');
    const high = int32(bytes, at - 8, end);
    const position = high * 2 ** 32 + uint32(bytes, at - 4, end);
    if (!Number.isSafeInteger(position) || position < 1) throw new Error(`position out of range in the event store batch (high word ${high})`);
    let length = field();
    row.type = typeAt(bytes, at - Math.max(length, 0), length);
    length = field();
    row.keyId = length < 0 ? null : integer(bytes, at - length, at);
    length = field();
    row.accountId = length < 0 ? null : integer(bytes, at - length, at);
    length = field();
    row.keyType = length < 0 ? null : keyTypeAt(bytes, at - length, length);
    length = field();
    row.hashAt = at - Math.max(length, 0);
    row.hashLength = length;
    length = field();
    row.expiresAt = length < 0 ? null : bytes.toString('utf8', at - length, at);
    length = field();
    row.nameAt = at - Math.max(length, 0);
    row.nameLength = length;
    row.position = position;
    rows++;
    if (position > last) last = position;
    visit(row);
  }
  if (at !== end) throw new Error('bytes after the end of the event store batch');
  return { rows, last };
}

function int32(bytes: Buffer, at: number, end: number): number {
  if (at + 4 > end) throw new Error('the event store batch ends inside a field');
  return (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
}

function uint32(bytes: Buffer, at: number, end: number): number {
  return int32(bytes, at, end) >>> 0;
}

/** The event type at bytes[at, at + length): one of the known constants (no string per row), else as written. */
function typeAt(bytes: Buffer, at: number, length: number): DomainEventType {
  if (length < 0) throw new Error('an event without a type in the event store batch');
  for (let t = 0; t < TYPES.length; t++) if (same(bytes, at, length, TYPE_BYTES[t])) return TYPES[t];
  return bytes.toString('utf8', at, at + length) as DomainEventType;
}

function keyTypeAt(bytes: Buffer, at: number, length: number): string {
  if (same(bytes, at, length, PROXY)) return 'proxy';
  if (same(bytes, at, length, BILLING)) return 'billing';
  return bytes.toString('utf8', at, at + length);
}

function same(bytes: Buffer, at: number, length: number, expected: Buffer): boolean {
  if (length !== expected.length) return false;
  for (let i = 0; i < length; i++) if (bytes[at + i] !== expected[i]) return false;
  return true;
}

/** A JSON integer as `->>` writes it: decimal digits only, a safe integer. */
function integer(bytes: Buffer, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = bytes[i] - 48;
    if (digit < 0 || digit > 9) throw new Error(`not an integer in the event store batch: ${bytes.toString('utf8', from, to)}`);
    value = value * 10 + digit;
  }
  if (!Number.isSafeInteger(value) || from === to) throw new Error(`integer out of range in the event store batch: ${bytes.toString('utf8', from, to)}`);
  return value;
}
