import type { IndexRow } from './verifier-index';
import { decodeIndexRows } from './key-events.reader';
import { type CopyRow, binaryCopy } from './binary-copy.spec-helper';

const HASH = 'ab'.repeat(32);

/** Each visited row as plain values (the hash and name read out of the batch's bytes). */
function decode(bytes: Buffer) {
  const rows: Array<Omit<IndexRow, 'bytes' | 'hashAt' | 'hashLength' | 'nameAt' | 'nameLength'> & { hash: string | null; name: string | null }> = [];
  decodeIndexRows(bytes, (row) => {
    const text = (at: number, length: number) => (length < 0 ? null : Buffer.from(row.bytes).toString('utf8', at, at + length));
    const { bytes: _bytes, hashAt, hashLength, nameAt, nameLength, ...rest } = row;
    rows.push({ ...rest, hash: text(hashAt, hashLength), name: text(nameAt, nameLength) });
  });
  return rows;
}

const ROWS: CopyRow[] = [
  [1, 'AccountCreated', null, '7', null, null, null, 'Acme'],
  [2, 'KeyCreated', '12', '7', 'billing', HASH, '2030-01-01T00:00:00.000Z', 'tab\there "quoted" back\\slash\nnew line 😀'],
  [3, 'KeyCreated', '13', '7', 'proxy', HASH, null, ''],
  [4, 'KeyExpirySet', '12', null, null, null, null, null],
  [5, 'KeyRenamed', '13', null, null, null, null, 'Ünïcödé'],
  [6, 'KeyDeleted', '13', null, null, null, null, null],
];

describe('decodeIndexRows', () => {
  it('reads every field of a binary COPY, NULL apart from an empty string, names byte for byte', () => {
    expect(decode(binaryCopy(ROWS))).toEqual([
      { position: 1, type: 'AccountCreated', keyId: null, accountId: 7, keyType: null, hash: null, expiresAt: null, name: 'Acme' },
      { position: 2, type: 'KeyCreated', keyId: 12, accountId: 7, keyType: 'billing', hash: HASH, expiresAt: '2030-01-01T00:00:00.000Z', name: 'tab\there "quoted" back\\slash\nnew line 😀' },
      { position: 3, type: 'KeyCreated', keyId: 13, accountId: 7, keyType: 'proxy', hash: HASH, expiresAt: null, name: '' },
      { position: 4, type: 'KeyExpirySet', keyId: 12, accountId: null, keyType: null, hash: null, expiresAt: null, name: null },
      { position: 5, type: 'KeyRenamed', keyId: 13, accountId: null, keyType: null, hash: null, expiresAt: null, name: 'Ünïcödé' },
      { position: 6, type: 'KeyDeleted', keyId: 13, accountId: null, keyType: null, hash: null, expiresAt: null, name: null },
    ]);
    expect(decodeIndexRows(binaryCopy(ROWS), () => undefined)).toEqual({ rows: 6, last: 6 });
  });

  it('keeps an unknown type or key type as written (the fold decides what to do with it)', () => {
    const [row] = decode(binaryCopy([[9, 'SomethingNew', '1', '2', 'gold', null, null, null]]));
    expect(row).toMatchObject({ type: 'SomethingNew', keyType: 'gold' });
  });

  it('reads nothing from an empty batch, and nothing but the trailer from a batch without rows', () => {
    expect(decode(Buffer.alloc(0))).toEqual([]);
    expect(decodeIndexRows(binaryCopy([]), () => undefined)).toEqual({ rows: 0, last: 0 });
  });

  it('refuses a batch cut anywhere, before visiting a row it could not read whole', () => {
    const bytes = binaryCopy(ROWS);
    for (let length = 1; length < bytes.length; length++) {
      const visited: number[] = [];
      expect(() => decodeIndexRows(bytes.subarray(0, length), (row) => visited.push(row.position))).toThrow();
      // Only rows that ended before the cut (their encoding without the trailer fits in it).
      expect(visited).toEqual(ROWS.map((r) => r[0]).slice(0, visited.length));
      if (visited.length > 0) expect(binaryCopy(ROWS.slice(0, visited.length)).length - 2).toBeLessThanOrEqual(length);
    }
  });

  it('refuses what is not exactly the expected layout', () => {
    const good = binaryCopy(ROWS.slice(0, 1));
    expect(() => decodeIndexRows(Buffer.from('not a copy at all, just text'), () => undefined)).toThrow(/not a binary COPY/);
    expect(() => decodeIndexRows(Buffer.concat([good, Buffer.from([0])]), () => undefined)).toThrow(/after the end/);
    const sevenFields = Buffer.from(good);
    sevenFields.writeInt16BE(7, 19);
    expect(() => decodeIndexRows(sevenFields, () => undefined)).toThrow(/7 fields/);
    const shortPosition = Buffer.from(good);
    shortPosition.writeInt32BE(4, 21);
    expect(() => decodeIndexRows(shortPosition, () => undefined)).toThrow(/not an int8/);
  });

  it('refuses a position that is not a positive safe integer, and ids that are not decimal integers', () => {
    const at = (position: number | bigint): Buffer => {
      const bytes = binaryCopy([[1, 'KeyDeleted', '1', null, null, null, null, null]]);
      bytes.writeBigInt64BE(BigInt(position), 25);
      return bytes;
    };
    expect(decodeIndexRows(at(2n ** 53n - 1n), () => undefined).last).toBe(2 ** 53 - 1);
    for (const position of [0n, -1n, 2n ** 53n, 2n ** 62n]) expect(() => decodeIndexRows(at(position), () => undefined)).toThrow(/position out of range/);
    for (const keyId of ['1.5', '-1', '', '1e3', ' 1', '99999999999999999999']) {
      expect(() => decodeIndexRows(binaryCopy([[1, 'KeyDeleted', keyId, null, null, null, null, null]]), () => undefined)).toThrow(/integer/);
    }
  });
});
