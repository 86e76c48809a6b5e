import type { CreateKey, KeyCommand } from './commands';
import { DomainError } from './domain.errors';
import type { KeyCreated, KeyEvent } from './events';
import {
  decideKey,
  evolveKey,
  foldKey,
  initialKeyState,
  isExpiredAt,
  keyDecider,
  keyStatus,
  type ExistingKeyState,
  type KeyState,
} from './key.decider';
import { specFor } from './testing-dsl.spec-helper';

const given = specFor(keyDecider);

const NOW = '2030-06-01T12:00:00.000Z';
const PAST = '2030-06-01T11:59:59.999Z';
const FUTURE = '2030-06-01T12:00:00.001Z';
const LATER = '2031-01-01T00:00:00.000Z';
const HASH = 'a'.repeat(64);

const create = (overrides: Partial<CreateKey> = {}): CreateKey => ({
  type: 'CreateKey',
  keyId: 17,
  accountId: 3,
  keyType: 'proxy',
  name: 'Production',
  prefix: 'ms-Ab12x',
  hash: HASH,
  expiresAt: null,
  now: NOW,
  ...overrides,
});

const created = (expiresAt: string | null = null): KeyCreated => ({
  type: 'KeyCreated',
  data: { keyId: 17, accountId: 3, keyType: 'proxy', name: 'Production', prefix: 'ms-Ab12x', hash: HASH, expiresAt },
});
const renamed = (name: string): KeyEvent => ({ type: 'KeyRenamed', data: { keyId: 17, name } });
const deactivated: KeyEvent = { type: 'KeyDeactivated', data: { keyId: 17 } };
const reactivated: KeyEvent = { type: 'KeyReactivated', data: { keyId: 17 } };
const expirySet = (expiresAt: string | null): KeyEvent => ({ type: 'KeyExpirySet', data: { keyId: 17, expiresAt } });
const expired = (expiredAt: string): KeyEvent => ({ type: 'KeyExpired', data: { keyId: 17, expiredAt } });
const deleted: KeyEvent = { type: 'KeyDeleted', data: { keyId: 17 } };
const URL = 'https://github.com/octo/repo/blob/abc/config.env';
const revoked = (reason: 'leaked' | 'operator' = 'leaked', revokedAt = NOW): KeyEvent => ({
  type: 'KeyRevoked',
  data: { keyId: 17, reason, foundAt: reason === 'leaked' ? URL : null, note: reason === 'operator' ? 'ticket 42' : null, revokedAt },
});

const rename = (name: string, now = NOW): KeyCommand => ({ type: 'RenameKey', keyId: 17, name, now });
const deactivate = (now = NOW): KeyCommand => ({ type: 'DeactivateKey', keyId: 17, now });
const reactivate = (now = NOW): KeyCommand => ({ type: 'ReactivateKey', keyId: 17, now });
const setExpiry = (expiresAt: string | null, now = NOW): KeyCommand => ({ type: 'SetKeyExpiry', keyId: 17, expiresAt, now });
const expire = (now = NOW): KeyCommand => ({ type: 'ExpireKey', keyId: 17, now });
const del = (now = NOW): KeyCommand => ({ type: 'DeleteKey', keyId: 17, now });
const revoke = (reason: 'leaked' | 'operator' = 'leaked', now = NOW): KeyCommand => ({
  type: 'RevokeKey',
  keyId: 17,
  reason,
  foundAt: reason === 'leaked' ? URL : null,
  note: reason === 'operator' ? 'ticket 42' : null,
  now,
});

/** A key that expired at PAST and has been swept. */
const sweptKey = [created(PAST), expired(PAST)];

describe('CreateKey', () => {
  it('creates a key', () => given([]).when(create()).then([created()]));

  it('stores the trimmed name', () =>
    given([]).when(create({ name: '  Production \n' })).then([created()]));

  it('accepts an expiry strictly after now', () =>
    given([]).when(create({ expiresAt: FUTURE })).then([created(FUTURE)]));

  it('accepts a billing key', () => {
    const [event] = decideKey(create({ keyType: 'billing', prefix: 'mk-Zz9yy' }), initialKeyState());
    expect(event).toMatchObject({ type: 'KeyCreated', data: { keyType: 'billing', prefix: 'mk-Zz9yy' } });
  });

  it('refuses a key id that already exists', () => given([created()]).when(create()).thenThrows('key_exists'));
  it('refuses a key id that existed and was deleted', () =>
    given([created(), deleted]).when(create()).thenThrows('key_exists'));

  it.each([
    ['empty', ''],
    ['only spaces', '   \t '],
    ['101 characters', 'x'.repeat(101)],
    ['not text', 42 as unknown as string],
  ])('refuses a name that is %s', (_label, name) => given([]).when(create({ name })).thenThrows('invalid_name'));

  it('accepts 1 and 100 characters, counting an emoji as one, after trimming', () => {
    given([]).when(create({ name: ' x ' })).then([{ ...created(), data: { ...created().data, name: 'x' } }]);
    const hundred = '😀' + 'x'.repeat(99);
    given([]).when(create({ name: `  ${hundred}  ` })).then([{ ...created(), data: { ...created().data, name: hundred } }]);
  });

  it.each([
    ['equal to now', NOW],
    ['in the past', PAST],
    ['equal to now in another offset', '2030-06-01T14:00:00+02:00'],
    ['not a timestamp', 'tomorrow'],
  ])('refuses an expiry %s', (_label, expiresAt) =>
    given([]).when(create({ expiresAt })).thenThrows('expiry_not_in_future'));

  it('compares instants, not strings', () =>
    // As strings "…T13:00:00+02:00" > "…T12:00:00.000Z", but it is an hour before now.
    given([]).when(create({ expiresAt: '2030-06-01T13:00:00+02:00' })).thenThrows('expiry_not_in_future'));
});

describe('commands on a key that does not exist or is deleted', () => {
  const commands: KeyCommand[] = [rename('New'), deactivate(), reactivate(), setExpiry(LATER), expire(), del()];

  it.each(commands.map((c) => [c.type, c] as const))('%s on no key → key_not_found', (_t, command) =>
    given([]).when(command).thenThrows('key_not_found'));

  it.each(commands.map((c) => [c.type, c] as const))('%s on a deleted key → key_deleted', (_t, command) =>
    given([created(PAST), deleted]).when(command).thenThrows('key_deleted'));

  it('a state for another key id is not found', () =>
    given([created()]).when({ type: 'DeleteKey', keyId: 18, now: NOW }).thenThrows('key_not_found'));
});

describe('RenameKey', () => {
  it('renames to the trimmed name', () => given([created()]).when(rename('  Staging ')).then([renamed('Staging')]));
  it('decides nothing for the same trimmed name', () =>
    given([created()]).when(rename(' Production ')).thenNothing());
  it('decides nothing when renamed back to the latest name', () =>
    given([created(), renamed('Staging')]).when(rename('Staging')).thenNothing());
  it('refuses an invalid name', () => given([created()]).when(rename('  ')).thenThrows('invalid_name'));
  it('is allowed on an expired key', () => given(sweptKey).when(rename('Old')).then([renamed('Old')]));
  it('is allowed on an inactive key', () => given([created(), deactivated]).when(rename('Off')).then([renamed('Off')]));
});

describe('DeactivateKey', () => {
  it('deactivates an active key', () => given([created()]).when(deactivate()).then([deactivated]));
  it('decides nothing for an inactive key', () => given([created(), deactivated]).when(deactivate()).thenNothing());
  it('decides nothing for an expired key (already inactive)', () => given(sweptKey).when(deactivate()).thenNothing());
  it('deactivates a key past its expiry that the sweep has not reached', () =>
    given([created(PAST)]).when(deactivate()).then([deactivated]));
  it('deactivates a reactivated key', () =>
    given([created(), deactivated, reactivated]).when(deactivate()).then([deactivated]));
});

describe('ReactivateKey', () => {
  it('reactivates an inactive key', () => given([created(), deactivated]).when(reactivate()).then([reactivated]));
  it('decides nothing for an active key', () => given([created()]).when(reactivate()).thenNothing());
  it('refuses an expired key', () => given(sweptKey).when(reactivate()).thenThrows('key_expired'));
  it('refuses an inactive key past its expiry before the sweep', () =>
    given([created(PAST), deactivated]).when(reactivate()).thenThrows('key_expired'));
  it('refuses an inactive key whose expiry is exactly now', () =>
    given([created(FUTURE), deactivated]).when(reactivate(FUTURE)).thenThrows('key_expired'));
  it('refuses an active key past its expiry before the sweep', () =>
    given([created(PAST)]).when(reactivate()).thenThrows('key_expired'));
  it('reactivates a key whose expiry is still ahead', () =>
    given([created(FUTURE), deactivated]).when(reactivate()).then([reactivated]));
});

describe('SetKeyExpiry', () => {
  it('sets a future expiry', () => given([created()]).when(setExpiry(LATER)).then([expirySet(LATER)]));
  it('moves an expiry earlier', () => given([created(LATER)]).when(setExpiry(FUTURE)).then([expirySet(FUTURE)]));
  it('removes an expiry with null', () => given([created(LATER)]).when(setExpiry(null)).then([expirySet(null)]));
  it('works on an inactive key', () =>
    given([created(), deactivated]).when(setExpiry(LATER)).then([expirySet(LATER)]));
  it('decides nothing for the identical expiry', () => given([created(LATER)]).when(setExpiry(LATER)).thenNothing());
  it('decides nothing for the same instant written differently', () =>
    given([created(LATER)]).when(setExpiry('2031-01-01T01:00:00+01:00')).thenNothing());
  it('decides nothing for null when there is no expiry', () => given([created()]).when(setExpiry(null)).thenNothing());
  it('decides nothing for the identical expiry even on an expired key', () =>
    given(sweptKey).when(setExpiry(PAST)).thenNothing());
  it('refuses a past expiry', () => given([created()]).when(setExpiry(PAST)).thenThrows('expiry_not_in_future'));
  it('refuses an expiry equal to now', () => given([created()]).when(setExpiry(NOW)).thenThrows('expiry_not_in_future'));
  it('refuses a new expiry on an expired key', () => given(sweptKey).when(setExpiry(LATER)).thenThrows('key_expired'));
  it('refuses removing the expiry of an expired key', () =>
    given(sweptKey).when(setExpiry(null)).thenThrows('key_expired'));
  it('refuses a new expiry on a key past its expiry before the sweep', () =>
    given([created(PAST)]).when(setExpiry(LATER)).thenThrows('key_expired'));
});

describe('ExpireKey (the sweep)', () => {
  it('expires a key whose expiry has passed, at its expiresAt rather than now', () =>
    given([created(PAST)]).when(expire()).then([expired(PAST)]));
  it('expires a key whose expiry is exactly now', () =>
    given([created(FUTURE)]).when(expire(FUTURE)).then([expired(FUTURE)]));
  it('uses the latest expiry that was set', () =>
    given([created(LATER), expirySet(FUTURE)]).when(expire(LATER)).then([expired(FUTURE)]));
  it('expires an inactive key too', () => given([created(PAST), deactivated]).when(expire()).then([expired(PAST)]));
  it('decides nothing on an already expired key (idempotent sweep)', () => given(sweptKey).when(expire()).thenNothing());
  it('refuses a key without an expiry', () => given([created()]).when(expire()).thenThrows('expiry_not_reached'));
  it('refuses a key whose expiry was removed', () =>
    given([created(FUTURE), expirySet(null)]).when(expire(LATER)).thenThrows('expiry_not_reached'));
  it('refuses a key whose expiry is ahead', () =>
    given([created(FUTURE)]).when(expire()).thenThrows('expiry_not_reached'));
});

describe('DeleteKey', () => {
  it('deletes an active key', () => given([created()]).when(del()).then([deleted]));
  it('deletes an inactive key', () => given([created(), deactivated]).when(del()).then([deleted]));
  it('deletes an expired key', () => given(sweptKey).when(del()).then([deleted]));
});

describe('RevokeKey', () => {
  it('revokes an active key for a leak, with where it was found', () => given([created()]).when(revoke()).then([revoked()]));
  it('revokes for an operator, with the note', () => given([created()]).when(revoke('operator')).then([revoked('operator')]));
  it('revokes an inactive key (it could be reactivated otherwise)', () =>
    given([created(), deactivated]).when(revoke()).then([revoked()]));
  it('revokes an expired key', () => given(sweptKey).when(revoke()).then([revoked()]));
  it('revokes a billing key: the last-billing-key rule never stops a revocation', () => {
    const billing: KeyEvent = { type: 'KeyCreated', data: { ...(created().data as KeyCreated['data']), keyType: 'billing', prefix: 'mk-Zz9yy' } };
    given([billing]).when(revoke()).then([revoked()]);
  });
  it('decides nothing for a key already revoked, whatever the reason now', () => {
    given([created(), revoked()]).when(revoke()).thenNothing();
    given([created(), revoked('operator')]).when(revoke('leaked')).thenNothing();
  });
  it('refuses a deleted key', () => given([created(), deleted]).when(revoke()).thenThrows('key_deleted'));
  it('refuses a key that does not exist', () => given([]).when(revoke()).thenThrows('key_not_found'));
});

describe('commands on a revoked key', () => {
  const gone = [created(LATER), revoked()];
  it('refuses reactivation', () => given(gone).when(reactivate()).thenThrows('key_revoked'));
  it('refuses reactivation of a key deactivated before it was revoked', () =>
    given([created(), deactivated, revoked()]).when(reactivate()).thenThrows('key_revoked'));
  it('refuses a new expiry', () => given(gone).when(setExpiry(FUTURE)).thenThrows('key_revoked'));
  it('refuses removing the expiry', () => given(gone).when(setExpiry(null)).thenThrows('key_revoked'));
  it('accepts the expiry it already has as a no-op', () => given(gone).when(setExpiry(LATER)).thenNothing());
  it('refuses a roll', () =>
    given(gone).when({ type: 'RetireKey', keyId: 17, expiresAt: LATER, now: NOW }).thenThrows('key_revoked'));
  it('allows a rename (the label helps find the key in lists and logs)', () =>
    given(gone).when(rename('Leaked one')).then([renamed('Leaked one')]));
  it('decides nothing for a deactivation: it is inactive already', () => given(gone).when(deactivate()).thenNothing());
  it('allows deletion', () => given(gone).when(del()).then([deleted]));
  it('says revoked before expired for a revoked key past its expiry', () =>
    given([created(FUTURE), revoked()]).when(reactivate(LATER)).thenThrows('key_revoked'));
  it('keeps the first revocation when folding', () => {
    const state = foldKey([created(), revoked('leaked', NOW), revoked('operator', LATER)]) as ExistingKeyState;
    expect(state.revocation).toEqual({ reason: 'leaked', foundAt: URL, note: null, revokedAt: NOW });
    expect(state.active).toBe(false);
    expect(keyStatus(state)).toBe('revoked');
    expect(keyStatus(foldKey([created(), revoked(), deleted]) as ExistingKeyState)).toBe('deleted');
  });
});

describe('DomainError', () => {
  it('carries a code and a sentence without the key hash', () => {
    try {
      decideKey(create(), foldKey([created()]));
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toBeInstanceOf(Error);
      expect((error as DomainError).name).toBe('DomainError');
      expect((error as DomainError).message).toMatch(/^[A-Z].*\.$/);
      expect((error as DomainError).message).not.toContain(HASH);
    }
  });
});

describe('evolveKey', () => {
  const existing = (state: KeyState): ExistingKeyState => {
    if (!state.exists) throw new Error('expected a key');
    return state;
  };

  it('starts from a key that does not exist', () => {
    expect(initialKeyState()).toEqual({ exists: false });
    expect(foldKey([])).toEqual({ exists: false });
  });

  it('builds the full state from KeyCreated', () => {
    expect(foldKey([created(LATER)])).toEqual({
      exists: true,
      keyId: 17,
      accountId: 3,
      keyType: 'proxy',
      name: 'Production',
      prefix: 'ms-Ab12x',
      hash: HASH,
      active: true,
      expiresAt: LATER,
      expired: false,
      expiredAt: null,
      deleted: false,
      revocation: null,
      createdAt: null,
      updatedAt: null,
    });
  });

  it('applies every event type in turn', () => {
    const state = existing(
      foldKey([created(), renamed('Staging'), deactivated, reactivated, expirySet(FUTURE), expired(FUTURE)]),
    );
    expect(state).toMatchObject({ name: 'Staging', expiresAt: FUTURE, expired: true, expiredAt: FUTURE, active: false });
    expect(keyStatus(state)).toBe('expired');
    expect(existing(foldKey([created(), deactivated]))).toMatchObject({ active: false });
    expect(existing(foldKey([created(), deactivated, reactivated]))).toMatchObject({ active: true });
    expect(existing(foldKey([created(LATER), expirySet(null)])).expiresAt).toBeNull();
    const gone = existing(foldKey([created(), deleted]));
    expect(gone).toMatchObject({ deleted: true, active: false });
    expect(keyStatus(gone)).toBe('deleted');
  });

  it('fills createdAt from KeyCreated and updatedAt from the latest event when occurredAt is given', () => {
    const state = existing(
      foldKey([
        { ...created(), occurredAt: '2030-01-01T00:00:00.000Z' },
        { ...renamed('Staging'), occurredAt: '2030-02-01T00:00:00.000Z' },
        deactivated, // no occurredAt: keeps the previous updatedAt
      ]),
    );
    expect(state.createdAt).toBe('2030-01-01T00:00:00.000Z');
    expect(state.updatedAt).toBe('2030-02-01T00:00:00.000Z');
    expect(state.active).toBe(false);
  });

  it('does not change its input state', () => {
    const before = foldKey([created()]);
    const snapshot = structuredClone(before);
    evolveKey(before, deactivated);
    expect(before).toEqual(snapshot);
  });

  it('ignores a non-creating event on a key that does not exist', () => {
    expect(evolveKey(initialKeyState(), deactivated)).toEqual({ exists: false });
  });

  it('folding decided events reproduces what each decision saw', () => {
    let state = initialKeyState();
    const commands: KeyCommand[] = [create({ expiresAt: LATER }), rename('B'), deactivate(), reactivate(), setExpiry(FUTURE)];
    for (const command of commands) for (const event of decideKey(command, state)) state = evolveKey(state, event);
    for (const event of decideKey(expire(LATER), state)) state = evolveKey(state, event);
    expect(state).toMatchObject({ name: 'B', expiresAt: FUTURE, expired: true, expiredAt: FUTURE, active: false });
  });
});

describe('keyStatus and isExpiredAt', () => {
  const existing = (events: KeyEvent[]) => foldKey(events) as ExistingKeyState;

  it('reports active, inactive, expired and deleted', () => {
    expect(keyStatus(existing([created()]))).toBe('active');
    expect(keyStatus(existing([created(), deactivated]))).toBe('inactive');
    expect(keyStatus(existing(sweptKey))).toBe('expired');
    expect(keyStatus(existing([...sweptKey, deleted]))).toBe('deleted');
  });

  it('judges expiry by time when given now, before the sweep', () => {
    const state = existing([created(PAST)]);
    expect(keyStatus(state)).toBe('active');
    expect(keyStatus(state, NOW)).toBe('expired');
    expect(keyStatus(existing([created(FUTURE)]), NOW)).toBe('active');
    expect(keyStatus(existing([created(PAST), deleted]), NOW)).toBe('deleted');
  });

  it('isExpiredAt is true at and after expiresAt, or once swept, and false otherwise', () => {
    expect(isExpiredAt(foldKey([created(NOW)]), NOW)).toBe(true);
    expect(isExpiredAt(foldKey([created(FUTURE)]), NOW)).toBe(false);
    expect(isExpiredAt(foldKey([created()]), NOW)).toBe(false);
    expect(isExpiredAt(foldKey(sweptKey), '2000-01-01T00:00:00Z')).toBe(true);
    expect(isExpiredAt(initialKeyState(), NOW)).toBe(false);
  });
});

describe('RetireKey (rotation)', () => {
  const retire = (expiresAt: string, now = NOW): KeyCommand => ({ type: 'RetireKey', keyId: 17, expiresAt, now });
  it('sets the overlap expiry on a key without one', () =>
    given([created()]).when(retire(LATER)).then([expirySet(LATER)]));
  it('keeps the key’s own expiry when it is earlier than the overlap', () =>
    given([created(FUTURE)]).when(retire(LATER)).thenNothing());
  it('moves an existing later expiry earlier', () =>
    given([created(LATER)]).when(retire(FUTURE)).then([expirySet(FUTURE)]));
  it('expires the key at once for an overlap of zero', () =>
    given([created()]).when(retire(NOW)).then([expirySet(NOW), expired(NOW)]));
  it('refuses a key that has already expired', () => given(sweptKey).when(retire(LATER)).thenThrows('key_expired'));
  it('refuses a deleted key', () => given([created(), deleted]).when(retire(LATER)).thenThrows('key_deleted'));
  it('refuses an unparseable instant', () =>
    given([created()]).when(retire('not a date')).thenThrows('expiry_not_in_future'));
});
