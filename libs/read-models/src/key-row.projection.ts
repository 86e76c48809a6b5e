// Pure projection of the `keys` read model: evolve one row over the key events, in position order.
// No I/O and no clock; the caller loads and stores rows.

import { type DomainEvent, type EventEnvelope, type KeyEvent, type KeyType, type RevocationReason, assertNever } from '@keys/domain';

/** Most terminal wins: deleted > revoked > expired > inactive/active (the same precedence as the domain's keyStatus). */
export type KeyRowState = 'active' | 'inactive' | 'expired' | 'revoked' | 'deleted';

export interface KeyRow {
  id: number;
  accountId: number;
  keyType: KeyType;
  name: string;
  prefix: string;
  state: KeyRowState;
  /** occurredAt of KeyCreated. */
  createdAt: string;
  expiresAt: string | null;
  /** The first KeyRevoked's data; null while the key was never revoked. */
  revokedAt: string | null;
  revokedReason: RevocationReason | null;
  revokedFoundAt: string | null;
  /** occurredAt of the last event applied. */
  updatedAt: string;
  /** Position of the last event applied. */
  lastPosition: number;
}

export type KeyEventEnvelope = EventEnvelope<KeyEvent>;

export function isKeyEvent(envelope: EventEnvelope<DomainEvent>): envelope is KeyEventEnvelope {
  return envelope.type !== 'AccountCreated';
}

/**
 * Applies one key event to the key's row (undefined before KeyCreated). An event at or below the row's
 * lastPosition was already applied (a redelivery or a replay overlap) and changes nothing, so applying
 * the same events twice gives the same row. Returns the same object when nothing changed.
 */
export function evolveKeyRow(row: KeyRow | undefined, event: KeyEventEnvelope): KeyRow | undefined {
  if (row && event.position <= row.lastPosition) return row;
  if (event.type === 'KeyCreated') {
    // A key id is created once; a second KeyCreated cannot come from the decider and is ignored.
    if (row) return row;
    const d = event.data;
    return {
      id: d.keyId,
      accountId: d.accountId,
      keyType: d.keyType,
      name: d.name,
      prefix: d.prefix,
      state: 'active',
      createdAt: event.occurredAt,
      expiresAt: d.expiresAt,
      revokedAt: null,
      revokedReason: null,
      revokedFoundAt: null,
      updatedAt: event.occurredAt,
      lastPosition: event.position,
    };
  }
  // An event for a key the projection has never seen cannot be placed in an account; it is ignored.
  if (!row) return row;
  const touched = { ...row, updatedAt: event.occurredAt, lastPosition: event.position };
  switch (event.type) {
    case 'KeyRenamed':
      return { ...touched, name: event.data.name };
    case 'KeyDeactivated':
      return { ...touched, state: row.state === 'active' ? 'inactive' : row.state };
    case 'KeyReactivated':
      return { ...touched, state: row.state === 'inactive' ? 'active' : row.state };
    case 'KeyExpirySet':
      return { ...touched, expiresAt: event.data.expiresAt };
    case 'KeyExpired':
      return { ...touched, state: row.state === 'deleted' || row.state === 'revoked' ? row.state : 'expired' };
    case 'KeyDeleted':
      return { ...touched, state: 'deleted' };
    case 'KeyRevoked':
      // The first revocation stands (the decider never appends a second one).
      if (row.revokedAt !== null) return touched;
      return {
        ...touched,
        state: row.state === 'deleted' ? 'deleted' : 'revoked',
        revokedAt: event.data.revokedAt,
        revokedReason: event.data.reason,
        revokedFoundAt: event.data.foundAt,
      };
    default:
      return assertNever(event);
  }
}

/** `active` of the docs/api.md key object: usable now, so a key past its expiresAt reads as inactive before the sweep. */
export function isActiveAt(row: KeyRow, nowIso: string): boolean {
  return row.state === 'active' && (row.expiresAt === null || Date.parse(row.expiresAt) > Date.parse(nowIso));
}
