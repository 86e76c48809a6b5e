// The key decider (emmett style): initialKeyState / evolveKey / decideKey, pure and total, bundled as keyDecider.
// Time arrives on commands as `now` and on stored events as their occurredAt; the decider has no clock.

import type {
  CreateKey,
  DeactivateKey,
  DeleteKey,
  ExpireKey,
  KeyCommand,
  ReactivateKey,
  RenameKey,
  RetireKey,
  RevokeKey,
  SetKeyExpiry,
} from './commands';
import type { Decider, Recorded } from './decider';
import { DomainError } from './domain.errors';
import { assertNever, type KeyEvent, type KeyRevoked, type KeyType } from './events';
import { validName } from './name.rules';
import { isAfter, isAtOrBefore, sameInstant } from './time.rules';

export interface ExistingKeyState {
  exists: true;
  keyId: number;
  accountId: number;
  keyType: KeyType;
  name: string;
  prefix: string;
  hash: string;
  active: boolean;
  expiresAt: string | null;
  /** True once KeyExpired has been applied; a key can be past `expiresAt` before the sweep runs. */
  expired: boolean;
  expiredAt: string | null;
  deleted: boolean;
  /** Set once by KeyRevoked (the first revocation stands); the key never authenticates again. */
  revocation: Revocation | null;
  /** occurredAt of KeyCreated, when the event evolved carried it. */
  createdAt: string | null;
  /** occurredAt of the latest event, when supplied. */
  updatedAt: string | null;
}

export type Revocation = Omit<KeyRevoked['data'], 'keyId'>;

export type KeyState = { exists: false } | ExistingKeyState;

export type KeyStatus = 'active' | 'inactive' | 'expired' | 'revoked' | 'deleted';

export function initialKeyState(): KeyState {
  return { exists: false };
}

/**
 * Applies one stored event. Events carry no time of their own (except expiry), so an envelope's `occurredAt`
 * fills `createdAt` (from KeyCreated) and `updatedAt` (every event); a bare event leaves those fields as they
 * were (null on a fresh state). The deciders never read them.
 *
 * Events are facts: evolve never refuses. An event other than KeyCreated on a key that does not exist cannot
 * come from this decider and leaves the state unchanged.
 */
export function evolveKey(state: KeyState, event: Recorded<KeyEvent>): KeyState {
  const occurredAt = event.occurredAt;
  if (event.type === 'KeyCreated') {
    const d = event.data;
    return {
      exists: true,
      keyId: d.keyId,
      accountId: d.accountId,
      keyType: d.keyType,
      name: d.name,
      prefix: d.prefix,
      hash: d.hash,
      active: true,
      expiresAt: d.expiresAt,
      expired: false,
      expiredAt: null,
      deleted: false,
      revocation: null,
      createdAt: occurredAt ?? null,
      updatedAt: occurredAt ?? null,
    };
  }
  if (!state.exists) return state;
  const updatedAt = occurredAt ?? state.updatedAt;
  switch (event.type) {
    case 'KeyRenamed':
      return { ...state, name: event.data.name, updatedAt };
    case 'KeyDeactivated':
      return { ...state, active: false, updatedAt };
    case 'KeyReactivated':
      return { ...state, active: true, updatedAt };
    case 'KeyExpirySet':
      return { ...state, expiresAt: event.data.expiresAt, updatedAt };
    case 'KeyExpired':
      // Expired keys are deactivated automatically (docs/api.md).
      return { ...state, expired: true, expiredAt: event.data.expiredAt, active: false, updatedAt };
    case 'KeyDeleted':
      return { ...state, deleted: true, active: false, updatedAt };
    case 'KeyRevoked': {
      const { keyId: _keyId, ...revocation } = event.data;
      return { ...state, active: false, revocation: state.revocation ?? revocation, updatedAt };
    }
    default:
      return assertNever(event);
  }
}

/** Folds a stream's events (envelopes or bare events) from the initial state. */
export function foldKey(events: ReadonlyArray<Recorded<KeyEvent>>): KeyState {
  return events.reduce(evolveKey, initialKeyState());
}

/** Whether the key is expired at `nowIso`: swept (KeyExpired applied) or past its `expiresAt`. */
export function isExpiredAt(state: KeyState, nowIso: string): boolean {
  if (!state.exists) return false;
  if (state.expired) return true;
  return state.expiresAt !== null && isAtOrBefore(state.expiresAt, nowIso);
}

/**
 * The key's status, most terminal first. With `nowIso`, a key past its `expiresAt` counts as expired even
 * before the sweep has appended KeyExpired (as the verifier judges it); without it, only the events count.
 */
export function keyStatus(state: ExistingKeyState, nowIso?: string): KeyStatus {
  if (state.deleted) return 'deleted';
  if (state.revocation) return 'revoked';
  if (nowIso === undefined ? state.expired : isExpiredAt(state, nowIso)) return 'expired';
  return state.active ? 'active' : 'inactive';
}

/** The key stream's decider, for the command handler. */
export const keyDecider: Decider<KeyState, KeyCommand, KeyEvent> = {
  decide: (command, state) => decideKey(command, state),
  evolve: evolveKey,
  initialState: initialKeyState,
};

/** Decides the events a command produces, or throws a DomainError. An empty array means "nothing to do". */
export function decideKey(command: KeyCommand, state: KeyState): KeyEvent[] {
  if (command.type === 'CreateKey') return decideCreate(command, state);
  const key = existingKey(command.keyId, state);
  switch (command.type) {
    case 'RenameKey':
      return decideRename(command, key);
    case 'DeactivateKey':
      return decideDeactivate(command, key);
    case 'ReactivateKey':
      return decideReactivate(command, key);
    case 'SetKeyExpiry':
      return decideSetExpiry(command, key);
    case 'ExpireKey':
      return decideExpire(command, key);
    case 'RetireKey':
      return decideRetire(command, key);
    case 'DeleteKey':
      return decideDelete(command, key);
    case 'RevokeKey':
      return decideRevoke(command, key);
    default:
      return assertNever(command);
  }
}

/** A deleted key accepts no command; an unknown one (or a state for another key id) is not found. */
function existingKey(keyId: number, state: KeyState): ExistingKeyState {
  if (!state.exists || state.keyId !== keyId) {
    throw new DomainError('key_not_found', `Key ${keyId} was not found.`);
  }
  if (state.deleted) throw new DomainError('key_deleted', `Key ${keyId} has been deleted.`);
  return state;
}

function decideCreate(command: CreateKey, state: KeyState): KeyEvent[] {
  if (state.exists) throw new DomainError('key_exists', `Key ${command.keyId} already exists.`);
  const name = validName(command.name, 'key');
  if (command.expiresAt !== null) assertInFuture(command.expiresAt, command.now);
  return [
    {
      type: 'KeyCreated',
      data: {
        keyId: command.keyId,
        accountId: command.accountId,
        keyType: command.keyType,
        name,
        prefix: command.prefix,
        hash: command.hash,
        expiresAt: command.expiresAt,
      },
    },
  ];
}

// Renaming is allowed on an expired key: the label still helps people find it in lists and logs.
function decideRename(command: RenameKey, key: ExistingKeyState): KeyEvent[] {
  const name = validName(command.name, 'key');
  if (name === key.name) return [];
  return [{ type: 'KeyRenamed', data: { keyId: key.keyId, name } }];
}

// Allowed on an expired key; KeyExpired already made it inactive, so that is normally a no-op.
function decideDeactivate(_command: DeactivateKey, key: ExistingKeyState): KeyEvent[] {
  if (!key.active) return [];
  return [{ type: 'KeyDeactivated', data: { keyId: key.keyId } }];
}

// The expiry check comes first: an active key past its expiresAt is refused rather than reported as
// "already active", because the caller wants a usable key and cannot have one.
function decideReactivate(command: ReactivateKey, key: ExistingKeyState): KeyEvent[] {
  if (key.revocation) throw revokedError(key);
  if (isExpiredAt(key, command.now)) throw expiredError(key);
  if (key.active) return [];
  return [{ type: 'KeyReactivated', data: { keyId: key.keyId } }];
}

// The identical value is checked first: asking for the expiry a key already has changes nothing, so it is
// not refused even on an expired key (a repeated PUT stays idempotent). A new expiry on a key that is
// expired, swept or not, would bring it back to life, so that is refused.
function decideSetExpiry(command: SetKeyExpiry, key: ExistingKeyState): KeyEvent[] {
  if (sameInstant(command.expiresAt, key.expiresAt)) return [];
  if (key.revocation) throw revokedError(key);
  if (isExpiredAt(key, command.now)) throw expiredError(key);
  if (command.expiresAt !== null) assertInFuture(command.expiresAt, command.now);
  return [{ type: 'KeyExpirySet', data: { keyId: key.keyId, expiresAt: command.expiresAt } }];
}

// On an already expired key ExpireKey decides nothing instead of refusing, so the sweep can be re-run or
// race another sweeper without errors. expiredAt is the instant the key logically expired, not `now`.
function decideExpire(command: ExpireKey, key: ExistingKeyState): KeyEvent[] {
  if (key.expired) return [];
  if (key.expiresAt === null || !isAtOrBefore(key.expiresAt, command.now)) {
    throw new DomainError('expiry_not_reached', `Key ${key.keyId} has not reached an expiry time.`);
  }
  return [{ type: 'KeyExpired', data: { keyId: key.keyId, expiredAt: key.expiresAt } }];
}

// Rotation keeps the earlier of the requested instant and the key's own expiry; an instant at or before
// `now` expires the key in the same decision. An expired key cannot be rotated out again.
// A revoked key is dead already; a replacement is a new key, not a rotation.
function decideRetire(command: RetireKey, key: ExistingKeyState): KeyEvent[] {
  if (key.revocation) throw revokedError(key);
  if (isExpiredAt(key, command.now)) throw expiredError(key);
  if (Number.isNaN(Date.parse(command.expiresAt))) {
    throw new DomainError('expiry_not_in_future', 'The expiry time must be a valid instant.');
  }
  const expiresAt =
    key.expiresAt !== null && isAtOrBefore(key.expiresAt, command.expiresAt) ? key.expiresAt : command.expiresAt;
  const events: KeyEvent[] = [];
  if (!sameInstant(expiresAt, key.expiresAt)) events.push({ type: 'KeyExpirySet', data: { keyId: key.keyId, expiresAt } });
  if (isAtOrBefore(expiresAt, command.now)) events.push({ type: 'KeyExpired', data: { keyId: key.keyId, expiredAt: expiresAt } });
  return events;
}

// "The last active billing key cannot be deleted or deactivated" needs the whole account's keys, so the
// command handler checks it (DomainError 'last_billing_key'); this stream only knows about itself.
function decideDelete(_command: DeleteKey, key: ExistingKeyState): KeyEvent[] {
  return [{ type: 'KeyDeleted', data: { keyId: key.keyId } }];
}

// Never refused on a live, inactive or expired key: a leak must always be stoppable, even of the account's
// last billing key. A second revocation decides nothing, so a retried report stays idempotent; the first
// revocation's reason and place stand.
function decideRevoke(command: RevokeKey, key: ExistingKeyState): KeyEvent[] {
  if (key.revocation) return [];
  return [
    {
      type: 'KeyRevoked',
      data: { keyId: key.keyId, reason: command.reason, foundAt: command.foundAt, note: command.note, revokedAt: command.now },
    },
  ];
}

function assertInFuture(expiresAt: string, now: string): void {
  if (!isAfter(expiresAt, now)) {
    throw new DomainError('expiry_not_in_future', 'The expiry time must be a valid instant in the future.');
  }
}

function revokedError(key: ExistingKeyState): DomainError {
  return new DomainError('key_revoked', `Key ${key.keyId} has been revoked and can no longer be changed that way.`);
}

function expiredError(key: ExistingKeyState): DomainError {
  return new DomainError('key_expired', `Key ${key.keyId} has expired and can no longer be changed that way.`);
}
