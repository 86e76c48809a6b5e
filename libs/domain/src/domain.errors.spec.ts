import * as domain from './index';
import { DOMAIN_ERROR_CODES, DomainError, isDomainError } from './domain.errors';

describe('domain errors', () => {
  it('lists every code once', () => {
    expect(new Set(DOMAIN_ERROR_CODES).size).toBe(DOMAIN_ERROR_CODES.length);
    expect(DOMAIN_ERROR_CODES).toHaveLength(10);
  });

  it('isDomainError tells domain refusals from other errors', () => {
    expect(isDomainError(new DomainError('last_billing_key', 'The last active billing key cannot be deleted.'))).toBe(true);
    expect(isDomainError(new Error('x'))).toBe(false);
  });

  it('the public surface exposes the deciders and errors', () => {
    for (const name of ['decideKey', 'evolveKey', 'initialKeyState', 'foldKey', 'decideAccount', 'evolveAccount',
      'initialAccountState', 'keyStatus', 'isExpiredAt', 'DomainError', 'accountIdOf', 'keyStreamId']) {
      expect(typeof (domain as Record<string, unknown>)[name]).toBe('function');
    }
    for (const decider of [domain.keyDecider, domain.accountDecider]) {
      expect(Object.keys(decider).sort()).toEqual(['decide', 'evolve', 'initialState']);
    }
  });
});
