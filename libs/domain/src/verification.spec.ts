import { judgeKey, type VerifiableKey } from './verification';

const NOW = Date.parse('2030-06-01T12:00:00.000Z');
const key = (overrides: Partial<VerifiableKey> = {}): VerifiableKey => ({
  keyId: 17,
  accountId: 3,
  keyType: 'proxy',
  name: 'Production',
  prefix: 'ms-Ab12x',
  active: true,
  expiresAt: null,
  expiresAtMs: null,
  expired: false,
  deleted: false,
  revoked: false,
  ...overrides,
});

describe('judgeKey', () => {
  it('accepts an active key of the right type and returns its identity', () => {
    expect(judgeKey(key(), 'proxy', NOW)).toEqual({
      valid: true,
      code: 'VALID',
      status: 200,
      key: { id: 17, accountId: 3, type: 'proxy', name: 'Production', prefix: 'ms-Ab12x', expiresAt: null },
    });
  });
  it.each([
    ['unknown', undefined, 'NOT_FOUND', 401],
    ['deleted', key({ deleted: true, active: false }), 'DELETED', 401],
    ['revoked', key({ revoked: true, active: false }), 'REVOKED', 401],
    ['revoked and also expired', key({ revoked: true, active: false, expired: true }), 'REVOKED', 401],
    ['revoked, of the other type', key({ revoked: true, active: false, keyType: 'billing' }), 'REVOKED', 401],
    ['revoked and then deleted', key({ revoked: true, deleted: true, active: false }), 'DELETED', 401],
    ['swept as expired', key({ expired: true, active: false }), 'EXPIRED', 401],
    ['past expiresAt before the sweep', key({ expiresAt: '2030-06-01T12:00:00.000Z', expiresAtMs: NOW }), 'EXPIRED', 401],
    ['deactivated', key({ active: false }), 'INACTIVE', 403],
    ['of the other type', key({ keyType: 'billing' }), 'WRONG_TYPE', 403],
  ] as const)('refuses a key that is %s', (_label, entry, code, status) => {
    expect(judgeKey(entry, 'proxy', NOW)).toEqual({ valid: false, code, status });
  });
  it('accepts a key whose expiry is still ahead', () => {
    expect(judgeKey(key({ expiresAtMs: NOW + 1, expiresAt: 'x' }), 'proxy', NOW).valid).toBe(true);
  });
  it('reports a deleted key of the other type as deleted, not as the wrong type', () => {
    expect(judgeKey(key({ deleted: true, keyType: 'billing' }), 'proxy', NOW).code).toBe('DELETED');
  });
});
