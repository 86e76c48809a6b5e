import type { IndexableEvent } from './verifier-index';

/** The columns readIndexBatch asks for, as Postgres would send them: position (int8), then text or NULL. */
export type CopyRow = [position: number, type: string, keyId: string | null, accountId: string | null, keyType: string | null, hash: string | null, expiresAt: string | null, name: string | null];

/** What `COPY (…) TO STDOUT WITH (FORMAT binary)` writes for these rows (header, tuples, trailer). */
export function binaryCopy(rows: CopyRow[]): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), int32(0), int32(0)];
  for (const [position, ...texts] of rows) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(1 + texts.length);
    const value = Buffer.alloc(8);
    value.writeBigInt64BE(BigInt(position));
    parts.push(count, int32(8), value);
    for (const text of texts) {
      if (text === null) parts.push(int32(-1));
      else {
        const bytes = Buffer.from(text, 'utf8');
        parts.push(int32(bytes.length), bytes);
      }
    }
  }
  const trailer = Buffer.alloc(2);
  trailer.writeInt16BE(-1);
  parts.push(trailer);
  return Buffer.concat(parts);
}

/** The row the catch-up's query gives for an event: `data->>'field'` of each field, NULL where there is none. */
export function copyRowOf(event: IndexableEvent): CopyRow {
  const data = event.data as Record<string, unknown>;
  const text = (field: string): string | null => (data[field] === undefined || data[field] === null ? null : String(data[field]));
  return [event.position, event.type, text('keyId'), text('accountId'), text('keyType'), text('hash'), text('expiresAt'), text('name')];
}

function int32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(value);
  return bytes;
}
