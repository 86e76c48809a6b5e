// Pure projection of the `keys` read model: the domain's fold of a key's events, as a row, in position order.
// No I/O and no clock; the caller loads and stores rows.

import { type DomainEvent, type EventEnvelope, type ExistingKeyState, type KeyEvent, type KeyType, type RevocationReason, keyDecider, keyStatus } from '@keys/domain';

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
  /** The first KeyRevoked's data; null until the key is revoked. */
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
 * Applies one key event to the key's row (undefined before KeyCreated), through the domain's own fold
 * (`keyDecider.evolve`): the row is the domain's key state, less what the read side does not keep (the hash),
 * plus the position. An event at or below the row's lastPosition was already applied (a redelivery or a replay
 * overlap) and changes nothing, so applying the same events twice gives the same row; then, and for events that
 * cannot apply (a second KeyCreated, an event for a key never seen), the same object is returned.
 */
export function evolveKeyRow(row: KeyRow | undefined, event: KeyEventEnvelope): KeyRow | undefined {
  if (row && event.position <= row.lastPosition) return row;
  // A key id is created once; an event for a key the projection has not seen cannot be placed in an account.
  if ((event.type === 'KeyCreated') !== (row === undefined)) return row;
  const state = keyDecider.evolve(row ? stateOfRow(row) : keyDecider.initialState(), event);
  return state.exists ? rowOfState(state, event) : row;
}

/** The domain's state for a row. The read model keeps no hash and no expiredAt; the fold reads neither. */
function stateOfRow(row: KeyRow): ExistingKeyState {
  return {
    exists: true,
    keyId: row.id,
    accountId: row.accountId,
    keyType: row.keyType,
    name: row.name,
    prefix: row.prefix,
    hash: '',
    active: row.state === 'active',
    expiresAt: row.expiresAt,
    expired: row.state === 'expired',
    expiredAt: null,
    deleted: row.state === 'deleted',
    revocation: row.revokedAt === null ? null : { revokedAt: row.revokedAt, reason: row.revokedReason as RevocationReason, foundAt: row.revokedFoundAt, note: null },
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function rowOfState(state: ExistingKeyState, event: KeyEventEnvelope): KeyRow {
  return {
    id: state.keyId,
    accountId: state.accountId,
    keyType: state.keyType,
    name: state.name,
    prefix: state.prefix,
    // Most terminal first, without a clock: a key past expiresAt stays 'active' here until the sweep's KeyExpired.
    state: keyStatus(state),
    createdAt: state.createdAt ?? event.occurredAt,
    expiresAt: state.expiresAt,
    revokedAt: state.revocation?.revokedAt ?? null,
    revokedReason: state.revocation?.reason ?? null,
    revokedFoundAt: state.revocation?.foundAt ?? null,
    updatedAt: state.updatedAt ?? event.occurredAt,
    lastPosition: event.position,
  };
}

/** `active` of the docs/api.md key object: usable now, so a key past its expiresAt reads as inactive before the sweep. */
export function isActiveAt(row: KeyRow, nowIso: string): boolean {
  return row.state === 'active' && (row.expiresAt === null || Date.parse(row.expiresAt) > Date.parse(nowIso));
}
