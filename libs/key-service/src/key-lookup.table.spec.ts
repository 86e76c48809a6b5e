import type { EventEnvelope } from '@keys/domain';
import { keyLookupWrites } from './key-lookup.table';

const metadata = { actor: { type: 'operator' as const, name: 't' }, ipAddress: null, userAgent: null, correlationId: 'c' };
let position = 0;
const at = (minute: number) => `2030-01-01T00:${String(minute).padStart(2, '0')}:00.000Z`;
function envelope(keyId: number, streamVersion: number, event: Pick<EventEnvelope, 'type' | 'data'>): EventEnvelope {
  return { ...event, eventId: `e${++position}`, position, streamId: `key-${keyId}`, streamVersion, occurredAt: at(streamVersion), metadata } as EventEnvelope;
}

describe('keyLookupWrites', () => {
  it('writes a key created in the batch whole, and only what changed of any other key, one write per key', () => {
    const writes = keyLookupWrites([
      envelope(1, 1, { type: 'KeyCreated', data: { keyId: 1, accountId: 5, keyType: 'proxy', name: 'a', prefix: 'pk_a', hash: 'h1', expiresAt: null } }),
      envelope(2, 4, { type: 'KeyRenamed', data: { keyId: 2, name: 'b' } }),
      envelope(1, 2, { type: 'KeyDeactivated', data: { keyId: 1 } }),
      envelope(2, 5, { type: 'KeyExpirySet', data: { keyId: 2, expiresAt: null } }),
      { ...envelope(9, 1, { type: 'AccountCreated', data: { accountId: 9, name: 'x' } }), streamId: 'account-9' } as EventEnvelope,
      envelope(3, 7, { type: 'KeyExpired', data: { keyId: 3, expiredAt: at(6) } }),
      envelope(4, 8, { type: 'KeyRevoked', data: { keyId: 4, reason: 'leaked', foundAt: null, note: null, revokedAt: at(8) } }),
    ]);
    expect(writes.created).toEqual([
      { key_id: 1, account_id: 5, key_type: 'proxy', hash: 'h1', prefix: 'pk_a', name: 'a', active: false, expires_at: null, expired: false, deleted: false, revoked: false, created_at: at(1), updated_at: at(2), version: 2 },
    ]);
    expect(writes.changed).toEqual([
      { key_id: 2, name: 'b', expires_at_set: true, expires_at: null, updated_at: at(5), version: 5 },
      { key_id: 3, expired: true, active: false, updated_at: at(7), version: 7 },
      { key_id: 4, revoked: true, active: false, updated_at: at(8), version: 8 },
    ]);
  });
});
