import type { EventEnvelope, EventMetadata, KeyEvent } from '@keys/domain';
import { type KeyEventEnvelope, type KeyRow, evolveKeyRow, isActiveAt, isKeyEvent } from './key-row.projection';
import { projectKeyEvent } from './security-log.projection';

const metadata: EventMetadata = {
  actor: { type: 'billing_key', keyId: 1, accountId: 7 },
  ipAddress: '203.0.113.9',
  userAgent: 'jest',
  correlationId: 'c-1',
};

let nextPosition = 1;
function envelope(event: KeyEvent, position = nextPosition++, occurredAt = `2026-01-01T00:00:${String(position % 60).padStart(2, '0')}.000Z`): KeyEventEnvelope {
  return { eventId: `e-${position}`, type: event.type, position, streamId: 'key-17', streamVersion: position, occurredAt, data: event.data, metadata } as KeyEventEnvelope;
}

const created = (position: number, expiresAt: string | null = null) =>
  envelope({ type: 'KeyCreated', data: { keyId: 17, accountId: 7, keyType: 'proxy', name: 'Production', prefix: 'ms-Ab12x', hash: 'h', expiresAt } }, position);

function fold(events: KeyEventEnvelope[]): KeyRow | undefined {
  return events.reduce<KeyRow | undefined>((row, e) => evolveKeyRow(row, e), undefined);
}

describe('keys row projection', () => {
  it('KeyCreated inserts an active row with createdAt = updatedAt = occurredAt', () => {
    const e = created(5);
    expect(evolveKeyRow(undefined, e)).toEqual({
      id: 17,
      accountId: 7,
      keyType: 'proxy',
      name: 'Production',
      prefix: 'ms-Ab12x',
      state: 'active',
      createdAt: e.occurredAt,
      expiresAt: null,
      revokedAt: null,
      revokedReason: null,
      revokedFoundAt: null,
      updatedAt: e.occurredAt,
      lastPosition: 5,
    });
  });

  it.each<[string, KeyEvent[], Partial<KeyRow>]>([
    ['KeyRenamed', [{ type: 'KeyRenamed', data: { keyId: 17, name: 'Staging' } }], { name: 'Staging', state: 'active' }],
    ['KeyDeactivated', [{ type: 'KeyDeactivated', data: { keyId: 17 } }], { state: 'inactive' }],
    ['KeyReactivated', [{ type: 'KeyDeactivated', data: { keyId: 17 } }, { type: 'KeyReactivated', data: { keyId: 17 } }], { state: 'active' }],
    ['KeyExpirySet', [{ type: 'KeyExpirySet', data: { keyId: 17, expiresAt: '2027-01-01T00:00:00.000Z' } }], { expiresAt: '2027-01-01T00:00:00.000Z', state: 'active' }],
    ['KeyExpired', [{ type: 'KeyExpired', data: { keyId: 17, expiredAt: '2026-01-01T00:00:00.000Z' } }], { state: 'expired' }],
    ['KeyDeleted', [{ type: 'KeyDeleted', data: { keyId: 17 } }], { state: 'deleted' }],
    ['KeyDeactivated after KeyExpired', [{ type: 'KeyExpired', data: { keyId: 17, expiredAt: 'x' } }, { type: 'KeyDeactivated', data: { keyId: 17 } }], { state: 'expired' }],
    ['KeyRevoked', [{ type: 'KeyRevoked', data: { keyId: 17, reason: 'leaked', foundAt: 'https://github.com/o/r', note: null, revokedAt: '2026-01-01T00:00:30.000Z' } }], { state: 'revoked', revokedAt: '2026-01-01T00:00:30.000Z', revokedReason: 'leaked', revokedFoundAt: 'https://github.com/o/r' }],
    ['KeyRevoked after KeyExpired', [{ type: 'KeyExpired', data: { keyId: 17, expiredAt: 'x' } }, { type: 'KeyRevoked', data: { keyId: 17, reason: 'leaked', foundAt: 'https://github.com/o/r', note: null, revokedAt: '2026-01-01T00:00:30.000Z' } }], { state: 'revoked' }],
    ['KeyExpired after KeyRevoked', [{ type: 'KeyRevoked', data: { keyId: 17, reason: 'leaked', foundAt: 'https://github.com/o/r', note: null, revokedAt: '2026-01-01T00:00:30.000Z' } }, { type: 'KeyExpired', data: { keyId: 17, expiredAt: 'x' } }], { state: 'revoked' }],
    ['a second KeyRevoked keeps the first', [{ type: 'KeyRevoked', data: { keyId: 17, reason: 'leaked', foundAt: 'https://github.com/o/r', note: null, revokedAt: '2026-01-01T00:00:30.000Z' } }, { type: 'KeyRevoked', data: { keyId: 17, reason: 'operator', foundAt: null, note: 'n', revokedAt: '2026-01-01T00:00:40.000Z' } }], { state: 'revoked', revokedReason: 'leaked', revokedAt: '2026-01-01T00:00:30.000Z' }],
    ['KeyDeleted after KeyRevoked', [{ type: 'KeyRevoked', data: { keyId: 17, reason: 'leaked', foundAt: 'https://github.com/o/r', note: null, revokedAt: '2026-01-01T00:00:30.000Z' } }, { type: 'KeyDeleted', data: { keyId: 17 } }], { state: 'deleted', revokedReason: 'leaked' }],
    ['KeyExpired after KeyDeleted', [{ type: 'KeyDeleted', data: { keyId: 17 } }, { type: 'KeyExpired', data: { keyId: 17, expiredAt: 'x' } }], { state: 'deleted' }],
  ])('%s', (_name, events, expected) => {
    const tail = events.map((e, i) => envelope(e, 10 + i));
    const row = fold([created(1), ...tail]);
    expect(row).toMatchObject({ ...expected, lastPosition: tail[tail.length - 1].position, updatedAt: tail[tail.length - 1].occurredAt });
  });

  it('ignores an event at or below the row position (redelivery, duplicate, out of order)', () => {
    const rename = envelope({ type: 'KeyRenamed', data: { keyId: 17, name: 'Once' } }, 3);
    const row = fold([created(1), rename]);
    expect(evolveKeyRow(row, rename)).toBe(row);
    const older = envelope({ type: 'KeyDeactivated', data: { keyId: 17 } }, 2);
    expect(evolveKeyRow(row, older)).toBe(row);
    expect(evolveKeyRow(row, created(1))).toBe(row);
  });

  it('ignores events of a key it never saw created', () => {
    expect(evolveKeyRow(undefined, envelope({ type: 'KeyDeleted', data: { keyId: 99 } }, 4))).toBeUndefined();
  });

  it('reads a key past its expiresAt as inactive before the sweep', () => {
    const row = fold([created(1, '2026-06-01T00:00:00.000Z')]) as KeyRow;
    expect(isActiveAt(row, '2026-05-31T23:59:59.999Z')).toBe(true);
    expect(isActiveAt(row, '2026-06-01T00:00:00.000Z')).toBe(false);
  });

  it('AccountCreated is not a key event', () => {
    const account = { eventId: 'a', type: 'AccountCreated', position: 1, streamId: 'account-7', streamVersion: 1, occurredAt: 'x', data: { accountId: 7, name: 'A' }, metadata } as EventEnvelope;
    expect(isKeyEvent(account)).toBe(false);
  });
});

describe('security log projection', () => {
  it.each<[KeyEvent, string]>([
    [{ type: 'KeyRenamed', data: { keyId: 17, name: 'Renamed' } }, 'key_renamed'],
    [{ type: 'KeyDeactivated', data: { keyId: 17 } }, 'key_deactivated'],
    [{ type: 'KeyReactivated', data: { keyId: 17 } }, 'key_reactivated'],
    [{ type: 'KeyExpirySet', data: { keyId: 17, expiresAt: null } }, 'key_expiry_set'],
    [{ type: 'KeyExpired', data: { keyId: 17, expiredAt: 'x' } }, 'key_expired'],
    [{ type: 'KeyDeleted', data: { keyId: 17 } }, 'key_deleted'],
    [{ type: 'KeyRevoked', data: { keyId: 17, reason: 'leaked', foundAt: 'https://github.com/o/r', note: null, revokedAt: '2026-01-01T00:00:30.000Z' } }, 'key_revoked'],
  ])('%j → %s, with name/prefix/type from the row', (event, action) => {
    const first = projectKeyEvent(undefined, created(1));
    expect(first?.entry).toMatchObject({ id: 1, action: 'key_created', accountId: 7 });
    const e = envelope(event, 20);
    const next = projectKeyEvent(first!.row, e);
    expect(next?.entry).toEqual({
      id: 20,
      accountId: 7,
      action,
      ipAddress: '203.0.113.9',
      createdAt: e.occurredAt,
      details: {
        keyId: 17,
        keyType: 'proxy',
        name: event.type === 'KeyRenamed' ? 'Renamed' : 'Production',
        prefix: 'ms-Ab12x',
        actor: metadata.actor,
        ...(event.type === 'KeyRevoked' && { reason: 'leaked', foundAt: 'https://github.com/o/r' }),
      },
    });
  });

  it('adds no entry for an event already applied', () => {
    const first = projectKeyEvent(undefined, created(1))!;
    expect(projectKeyEvent(first.row, created(1))).toBeNull();
  });
});
