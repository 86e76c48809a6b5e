import type { IndexRow } from './verifier-index';
import { decodeIndexRows } from './key-events.reader';

const HASH = 'ab'.repeat(32);

function decode(text: string): IndexRow[] {
  const rows: IndexRow[] = [];
  decodeIndexRows(text, (row) => rows.push({ ...row }));
  return rows;
}

describe('decodeIndexRows', () => {
  it('reads every field, empty ones as null, and names exactly as JSON wrote them', () => {
    // What Postgres writes for these events: (data->'name')::text is a JSON string literal.
    const name = 'tab\there "quoted" back\\slash\nnew line 😀';
    const text = [
      `1\tAccountCreated\t\t7\t\t\t\t${JSON.stringify('Acme')}`,
      `2\tKeyCreated\t12\t7\tbilling\t${HASH}\t2030-01-01T00:00:00.000Z\t${JSON.stringify(name)}`,
      `3\tKeyCreated\t13\t7\tproxy\t${HASH}\t\t"plain name longer than thirteen"`,
      `4\tKeyExpirySet\t12\t\t\t\t\t`,
      `5\tKeyDeleted\t13\t\t\t\t\t`,
    ].join('\n');
    expect(decode(text)).toEqual([
      { position: 1, type: 'AccountCreated', keyId: null, accountId: 7, keyType: null, hash: null, expiresAt: null, name: 'Acme' },
      { position: 2, type: 'KeyCreated', keyId: 12, accountId: 7, keyType: 'billing', hash: HASH, expiresAt: '2030-01-01T00:00:00.000Z', name },
      { position: 3, type: 'KeyCreated', keyId: 13, accountId: 7, keyType: 'proxy', hash: HASH, expiresAt: null, name: 'plain name longer than thirteen' },
      { position: 4, type: 'KeyExpirySet', keyId: 12, accountId: null, keyType: null, hash: null, expiresAt: null, name: null },
      { position: 5, type: 'KeyDeleted', keyId: 13, accountId: null, keyType: null, hash: null, expiresAt: null, name: null },
    ]);
  });

  it('visits rows in position order even if the aggregate returned them out of order', () => {
    const text = ['3\tKeyDeleted\t1\t\t\t\t\t', '1\tKeyDeactivated\t1\t\t\t\t\t', '2\tKeyReactivated\t1\t\t\t\t\t'].join('\n');
    expect(decode(text).map((r) => r.position)).toEqual([1, 2, 3]);
    expect(decodeIndexRows(text, () => undefined)).toEqual({ rows: 3, last: 3 });
  });

  it('reads nothing from an empty batch and refuses a position that is not a safe integer', () => {
    expect(decode('')).toEqual([]);
    expect(() => decode('99999999999999999999\tKeyDeleted\t1\t\t\t\t\t')).toThrow(/out of range/);
  });
});
