import { accountKeysAsOf } from './account-keys.as-of';
import type { DomainEvent, EventEnvelope } from './events';

let position = 0;
function at(occurredAt: string, streamId: string, event: DomainEvent): EventEnvelope {
  position += 1;
  return {
    eventId: `00000000-0000-4000-8000-${String(position).padStart(12, '0')}`,
    position,
    streamId,
    streamVersion: 1,
    occurredAt,
    metadata: { actor: { type: 'operator', name: 'alice' }, ipAddress: null, userAgent: null, correlationId: 'c' },
    ...event,
  } as EventEnvelope;
}

const created = (keyId: number, accountId: number, name: string, expiresAt: string | null = null): DomainEvent => ({
  type: 'KeyCreated',
  data: { keyId, accountId, keyType: 'proxy', name, prefix: `ms-k${keyId}xxx`, hash: 'h'.repeat(64), expiresAt },
});

const history: EventEnvelope[] = [
  at('2030-01-01T00:00:00.000Z', 'account-1', { type: 'AccountCreated', data: { accountId: 1, name: 'Acme' } }),
  at('2030-01-01T00:00:01.000Z', 'key-1', created(1, 1, 'Prod')),
  at('2030-01-01T00:00:01.000Z', 'key-9', created(9, 2, 'Other account')),
  at('2030-01-01T00:00:02.000Z', 'key-2', created(2, 1, 'Short', '2030-01-01T00:00:05.000Z')),
  at('2030-01-01T00:00:03.000Z', 'key-1', { type: 'KeyRenamed', data: { keyId: 1, name: 'Production' } }),
  at('2030-01-01T00:00:04.000Z', 'key-1', { type: 'KeyDeactivated', data: { keyId: 1 } }),
  at('2030-01-01T00:00:06.000Z', 'key-3', created(3, 1, 'Doomed')),
  at('2030-01-01T00:00:07.000Z', 'key-3', { type: 'KeyDeleted', data: { keyId: 3 } }),
  // The sweep ran late: the key had already been expired since 00:00:05.
  at('2030-01-01T00:00:08.000Z', 'key-2', { type: 'KeyExpired', data: { keyId: 2, expiredAt: '2030-01-01T00:00:05.000Z' } }),
];

describe('accountKeysAsOf', () => {
  it('knows nothing before the account was created', () => {
    expect(accountKeysAsOf(1, history, '2029-12-31T23:59:59.999Z')).toEqual({
      accountId: 1,
      asOf: '2029-12-31T23:59:59.999Z',
      accountExisted: false,
      keys: [],
    });
  });

  it('includes an event that occurred exactly at the instant', () => {
    const state = accountKeysAsOf(1, history, '2030-01-01T00:00:01.000Z');
    expect(state.accountExisted).toBe(true);
    expect(state.keys).toEqual([
      { id: 1, type: 'proxy', name: 'Prod', prefix: 'ms-k1xxx', status: 'active', active: true, createdAt: '2030-01-01T00:00:01.000Z', expiresAt: null, revokedReason: null, revokedAt: null },
    ]);
  });

  it('shows the name and activity each key had at the instant, and only this account', () => {
    const state = accountKeysAsOf(1, history, '2030-01-01T00:00:03.500Z');
    expect(state.keys.map((k) => [k.id, k.name, k.status])).toEqual([
      [1, 'Production', 'active'],
      [2, 'Short', 'active'],
    ]);
    expect(accountKeysAsOf(1, history, '2030-01-01T00:00:04.000Z').keys[0]).toMatchObject({ status: 'inactive', active: false });
  });

  it('judges expiry at the instant, before the sweep appended KeyExpired', () => {
    const key2 = accountKeysAsOf(1, history, '2030-01-01T00:00:05.000Z').keys.find((k) => k.id === 2);
    expect(key2).toMatchObject({ status: 'expired', active: true, expiresAt: '2030-01-01T00:00:05.000Z' });
    const swept = accountKeysAsOf(1, history, '2030-01-01T00:00:09.000Z').keys.find((k) => k.id === 2);
    expect(swept).toMatchObject({ status: 'expired', active: false });
  });

  it('keeps deleted keys, marked deleted, sorted by id', () => {
    const state = accountKeysAsOf(1, history, '2030-01-01T00:00:09.000Z');
    expect(state.keys.map((k) => [k.id, k.status])).toEqual([
      [1, 'inactive'],
      [2, 'expired'],
      [3, 'deleted'],
    ]);
  });

  it('shows a key revoked by then as revoked, with reason and instant, and as it was before', () => {
    const revokedAt = '2030-01-01T00:00:10.000Z';
    const withRevocation = [
      ...history,
      at(revokedAt, 'key-1', { type: 'KeyRevoked', data: { keyId: 1, reason: 'leaked', foundAt: 'https://github.com/o/r', note: null, revokedAt } }),
    ];
    expect(accountKeysAsOf(1, withRevocation, '2030-01-01T00:00:09.999Z').keys[0]).toMatchObject({ status: 'inactive', revokedReason: null, revokedAt: null });
    expect(accountKeysAsOf(1, withRevocation, revokedAt).keys[0]).toMatchObject({ status: 'revoked', active: false, revokedReason: 'leaked', revokedAt });
  });

  it('compares instants, not strings', () => {
    // 01:00:03.5+01:00 is 00:00:03.5Z: the rename has happened, the deactivation has not.
    const state = accountKeysAsOf(1, history, '2030-01-01T01:00:03.500+01:00');
    expect(state.keys[0]).toMatchObject({ name: 'Production', status: 'active' });
  });
});
