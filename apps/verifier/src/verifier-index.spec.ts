import { type KeyEvent, evolveKey, initialKeyState, judgeKey } from '@keys/domain';
import { generateKey } from '@keys/key-material';
import { type ApplyOutcome, type IndexableEvent, VerifierIndex } from './verifier-index';
import { decodeIndexRows } from './key-events.reader';
import { binaryCopy, copyRowOf } from './binary-copy.spec-helper';
import { verifiableOf } from './verifiable-state.spec-helper';

const NOW = Date.parse('2030-06-01T12:00:00.000Z');

function created(position: number, keyId: number, type: 'proxy' | 'billing' = 'proxy', expiresAt: string | null = null) {
  const material = generateKey(type);
  const event: IndexableEvent = {
    position,
    type: 'KeyCreated',
    data: { keyId, accountId: 7, keyType: type, name: `key ${keyId}`, prefix: material.prefix, hash: material.hash, expiresAt },
  };
  return { key: material.key, event };
}

const at = (position: number, event: KeyEvent): IndexableEvent => ({ ...event, position }) as IndexableEvent;

/** Applies the event as the catch-up reads it: the row Postgres's COPY writes for it, decoded. */
function applyAsRead(index: VerifierIndex, event: IndexableEvent): ApplyOutcome {
  let outcome: ApplyOutcome | undefined;
  decodeIndexRows(binaryCopy([copyRowOf(event)]), (row) => (outcome = index.applyRow(row)));
  return outcome as ApplyOutcome;
}

describe('VerifierIndex', () => {
  it('answers VALID with the identity of docs/verification.md for a created key, NOT_FOUND for another', () => {
    const index = new VerifierIndex();
    const { key, event } = created(1, 17);
    expect(index.apply(event)).toBe('applied');
    expect(judgeKey(index.lookup(key), 'proxy', NOW)).toEqual({
      valid: true,
      code: 'VALID',
      status: 200,
      key: { id: 17, accountId: 7, type: 'proxy', name: 'key 17', prefix: key.slice(0, 8), expiresAt: null },
    });
    expect(judgeKey(index.lookup(generateKey('proxy').key), 'proxy', NOW).code).toBe('NOT_FOUND');
    expect(index.size).toBe(1);
  });

  it.each<[string, KeyEvent[], string]>([
    ['deactivated', [{ type: 'KeyDeactivated', data: { keyId: 1 } }], 'INACTIVE'],
    ['reactivated', [{ type: 'KeyDeactivated', data: { keyId: 1 } }, { type: 'KeyReactivated', data: { keyId: 1 } }], 'VALID'],
    ['deleted', [{ type: 'KeyDeleted', data: { keyId: 1 } }], 'DELETED'],
    ['deactivated then deleted', [{ type: 'KeyDeactivated', data: { keyId: 1 } }, { type: 'KeyDeleted', data: { keyId: 1 } }], 'DELETED'],
    ['swept', [{ type: 'KeyExpired', data: { keyId: 1, expiredAt: '2030-01-01T00:00:00.000Z' } }], 'EXPIRED'],
    ['past expiresAt, not yet swept', [{ type: 'KeyExpirySet', data: { keyId: 1, expiresAt: '2030-06-01T11:59:59.999Z' } }], 'EXPIRED'],
    ['expiry moved into the future', [{ type: 'KeyExpirySet', data: { keyId: 1, expiresAt: '2030-06-01T12:00:00.001Z' } }], 'VALID'],
    ['expiry cleared', [{ type: 'KeyExpirySet', data: { keyId: 1, expiresAt: '2030-01-01T00:00:00.000Z' } }, { type: 'KeyExpirySet', data: { keyId: 1, expiresAt: null } }], 'VALID'],
    ['renamed', [{ type: 'KeyRenamed', data: { keyId: 1, name: 'New name' } }], 'VALID'],
    ['revoked', [{ type: 'KeyRevoked', data: { keyId: 1, reason: 'leaked', foundAt: 'https://github.com/o/r/blob/x/f', note: null, revokedAt: '2030-01-01T00:00:00.000Z' } }], 'REVOKED'],
    ['deactivated then revoked', [{ type: 'KeyDeactivated', data: { keyId: 1 } }, { type: 'KeyRevoked', data: { keyId: 1, reason: 'operator', foundAt: null, note: 'ticket 7', revokedAt: '2030-01-01T00:00:00.000Z' } }], 'REVOKED'],
    ['revoked then deleted', [{ type: 'KeyRevoked', data: { keyId: 1, reason: 'leaked', foundAt: null, note: null, revokedAt: '2030-01-01T00:00:00.000Z' } }, { type: 'KeyDeleted', data: { keyId: 1 } }], 'DELETED'],
  ])('%s → %s, exactly as the domain fold judges it', (_name, later, code) => {
    const index = new VerifierIndex();
    // The same events as the catch-up reads them (rows extracted by Postgres) must fold the same way.
    const fromRows = new VerifierIndex();
    const { key, event } = created(1, 1);
    index.apply(event);
    applyAsRead(fromRows, event);
    let state = evolveKey(initialKeyState(), event);
    later.forEach((e, i) => {
      expect(index.apply(at(i + 2, e))).toBe('applied');
      expect(applyAsRead(fromRows, at(i + 2, e))).toBe('applied');
      state = evolveKey(state, e);
    });
    const fromIndex = judgeKey(index.lookup(key), 'proxy', NOW);
    expect(fromIndex.code).toBe(code);
    expect(fromIndex).toEqual(judgeKey(verifiableOf(state), 'proxy', NOW));
    expect(judgeKey(fromRows.lookup(key), 'proxy', NOW)).toEqual(fromIndex);
  });

  it('judges the scope: a billing key asked for as proxy is WRONG_TYPE', () => {
    const index = new VerifierIndex();
    const { key, event } = created(1, 1, 'billing');
    index.apply(event);
    expect(judgeKey(index.lookup(key), 'proxy', NOW).code).toBe('WRONG_TYPE');
    expect(judgeKey(index.lookup(key), 'billing', NOW).code).toBe('VALID');
  });

  it('judges expiry against the time of the request', () => {
    const index = new VerifierIndex();
    const { key, event } = created(1, 1, 'proxy', '2030-06-01T12:00:00.000Z');
    index.apply(event);
    expect(judgeKey(index.lookup(key), 'proxy', NOW - 1).code).toBe('VALID');
    expect(judgeKey(index.lookup(key), 'proxy', NOW).code).toBe('EXPIRED');
  });

  it('is idempotent by position: a redelivered event changes nothing', () => {
    const index = new VerifierIndex();
    const { key, event } = created(1, 1);
    index.apply(event);
    index.apply(at(2, { type: 'KeyDeactivated', data: { keyId: 1 } }));
    index.apply(at(3, { type: 'KeyReactivated', data: { keyId: 1 } }));
    // The deactivation arrives again from the other source: it must not undo the reactivation.
    expect(index.apply(at(2, { type: 'KeyDeactivated', data: { keyId: 1 } }))).toBe('duplicate');
    expect(index.apply(event)).toBe('duplicate');
    expect(index.position).toBe(3);
    expect(judgeKey(index.lookup(key), 'proxy', NOW).code).toBe('VALID');
  });

  it('refuses to apply across a gap and leaves the position where it was', () => {
    const index = new VerifierIndex();
    const first = created(1, 1);
    const third = created(3, 2);
    index.apply(first.event);
    expect(index.apply(third.event)).toBe('gap');
    expect(index.position).toBe(1);
    expect(index.lookup(third.key)).toBeUndefined();
    expect(index.apply({ position: 2, type: 'AccountCreated', data: { accountId: 9, name: 'x' } })).toBe('applied');
    expect(index.apply(third.event)).toBe('applied');
    expect(index.position).toBe(3);
  });

  it('ignores events for a key it never saw created (as evolveKey does) but advances the position', () => {
    const index = new VerifierIndex();
    expect(index.apply(at(1, { type: 'KeyDeleted', data: { keyId: 99 } }))).toBe('applied');
    expect(index.position).toBe(1);
    expect(index.size).toBe(0);
  });

  it('finds every one of thousands of keys (growing past its first capacity) and no other', () => {
    const index = new VerifierIndex();
    const keys = Array.from({ length: 3000 }, (_, i) => {
      const { key, event } = created(i + 1, i + 1, i % 2 ? 'billing' : 'proxy');
      expect(applyAsRead(index, event)).toBe('applied');
      return key;
    });
    index.apply(at(3001, { type: 'KeyRenamed', data: { keyId: 1234, name: 'renamed' } }));
    expect(index.size).toBe(3000);
    keys.forEach((key, i) => {
      const found = index.lookup(key);
      expect(found).toMatchObject({ keyId: i + 1, keyType: i % 2 ? 'billing' : 'proxy', prefix: key.slice(0, 8), name: i + 1 === 1234 ? 'renamed' : `key ${i + 1}` });
    });
    expect(index.lookup(generateKey('proxy').key)).toBeUndefined();
  });
});
