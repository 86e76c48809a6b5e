import * as bus from '@keys/bus';
import * as domain from '@keys/domain';
import { ApiError } from '@keys/platform';
import {
  DOMAIN_EVENT_TYPES,
  type DomainEvent,
  type EventEnvelope,
  KeyAuthError,
  type KeyType,
  VERIFY_STATUS,
  type Verdict,
  type VerifiedKeyIdentity,
  type VerifyCode,
  allKeyEventsSubject,
  keyEventSubject,
  verifySubject,
} from './public-api';

// The package carries copies of the contract (so it installs without the repo's libs); these keep each copy equal
// to the definition the key service itself uses. A type that drifts fails to compile; a value, this test.

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <A, B>(equal: Equal<A, B>) => equal;

describe('the package contract copies', () => {
  it('types equal libs/domain', () => {
    same<KeyType, domain.KeyType>(true);
    same<VerifyCode, domain.VerifyCode>(true);
    same<Verdict, domain.Verdict>(true);
    same<VerifiedKeyIdentity, domain.VerifiedKeyIdentity>(true);
    same<DomainEvent, domain.DomainEvent>(true);
    same<EventEnvelope, domain.EventEnvelope>(true);
  });

  it('values equal libs/domain and libs/bus', () => {
    expect(VERIFY_STATUS).toEqual(domain.VERIFY_STATUS);
    expect(DOMAIN_EVENT_TYPES).toEqual(domain.DOMAIN_EVENT_TYPES);
    expect(verifySubject('p.x')).toBe(bus.verifySubject('p.x'));
    expect(allKeyEventsSubject('p.x')).toBe(bus.allEventsSubject('p.x'));
    expect(keyEventSubject('p.x', 3, 'KeyDeleted')).toBe(bus.eventSubject('p.x', 3, 'KeyDeleted'));
    expect(keyEventSubject('p.x', '*', '>')).toBe(bus.eventSubject('p.x', '*', '>'));
  });

  it('error bodies and statuses equal libs/platform', () => {
    const pairs: Array<[KeyAuthError, ApiError]> = [
      [KeyAuthError.invalidApiKey(), ApiError.invalidApiKey()],
      [KeyAuthError.expiredApiKey(), ApiError.expiredApiKey()],
      [KeyAuthError.keyInactive(), ApiError.keyInactive()],
      [KeyAuthError.wrongKeyType('proxy'), ApiError.wrongKeyType('proxy')],
      [KeyAuthError.wrongKeyType('billing'), ApiError.wrongKeyType('billing')],
    ];
    for (const [copy, original] of pairs) {
      expect(copy.body()).toEqual(original.body());
      expect(copy.getResponse()).toEqual(original.body());
      expect(copy.getStatus()).toBe(original.status);
    }
    expect(KeyAuthError.unavailable().body().error).toMatchObject({ type: 'api_error', code: 'unavailable' });
  });
});
