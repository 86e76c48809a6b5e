// An account's keys as they were at one instant, derived only from its events (keysctl audit state).
// Pure: the caller reads the events; this folds them with the key decider's evolve.

import { type EventEnvelope, type KeyType, type RevocationReason, assertNever } from './events';
import { type ExistingKeyState, type KeyState, type KeyStatus, evolveKey, initialKeyState, keyStatus } from './key.decider';
import { isAtOrBefore } from './time.rules';

export interface KeyAsOf {
  id: number;
  type: KeyType;
  name: string;
  prefix: string;
  /** Judged at the instant: a key past its expiresAt is expired even if the sweep ran later. */
  status: KeyStatus;
  /** The flag as the events had set it by then (what the read models showed). */
  active: boolean;
  createdAt: string | null;
  expiresAt: string | null;
  /** Why and when it was revoked, when it had been by then. */
  revokedReason: RevocationReason | null;
  revokedAt: string | null;
}

export interface AccountKeysAsOf {
  accountId: number;
  asOf: string;
  /** Whether AccountCreated had happened by `asOf`. */
  accountExisted: boolean;
  /** Every key created by then, deleted ones included, sorted by id. */
  keys: KeyAsOf[];
}

/**
 * Folds the account's events that occurred at or before `asOf`, in the order given (position order).
 * Events of other accounts and later events are ignored, so passing more than needed is harmless.
 */
export function accountKeysAsOf(accountId: number, events: ReadonlyArray<EventEnvelope>, asOf: string): AccountKeysAsOf {
  const keys = new Map<string, KeyState>();
  let accountExisted = false;
  for (const envelope of events) {
    if (!isAtOrBefore(envelope.occurredAt, asOf)) continue;
    switch (envelope.type) {
      case 'AccountCreated':
        if (envelope.data.accountId === accountId) accountExisted = true;
        break;
      case 'KeyCreated':
        if (envelope.data.accountId !== accountId) break;
        keys.set(envelope.streamId, evolveKey(initialKeyState(), envelope));
        break;
      case 'KeyRenamed':
      case 'KeyDeactivated':
      case 'KeyReactivated':
      case 'KeyExpirySet':
      case 'KeyExpired':
      case 'KeyDeleted':
      case 'KeyRevoked': {
        // Only streams whose KeyCreated was seen (and belonged to this account) are followed.
        const state = keys.get(envelope.streamId);
        if (state) keys.set(envelope.streamId, evolveKey(state, envelope));
        break;
      }
      default:
        assertNever(envelope);
    }
  }
  const list = [...keys.values()]
    .filter((s): s is ExistingKeyState => s.exists)
    .map((s) => keyAsOf(s, asOf))
    .sort((a, b) => a.id - b.id);
  return { accountId, asOf, accountExisted, keys: list };
}

function keyAsOf(state: ExistingKeyState, asOf: string): KeyAsOf {
  return {
    id: state.keyId,
    type: state.keyType,
    name: state.name,
    prefix: state.prefix,
    status: keyStatus(state, asOf),
    active: state.active,
    createdAt: state.createdAt,
    expiresAt: state.expiresAt,
    revokedReason: state.revocation?.reason ?? null,
    revokedAt: state.revocation?.revokedAt ?? null,
  };
}
