import type { CreateAccount } from './commands';
import {
  accountDecider,
  evolveAccount,
  foldAccount,
  initialAccountState,
  type AccountEvent,
} from './account.decider';
import { specFor } from './testing-dsl.spec-helper';

const given = specFor(accountDecider);

const createAccount = (name = 'Acme'): CreateAccount => ({
  type: 'CreateAccount',
  accountId: 3,
  name,
  now: '2030-06-01T12:00:00.000Z',
});
const accountCreated = (name = 'Acme'): AccountEvent => ({ type: 'AccountCreated', data: { accountId: 3, name } });

describe('CreateAccount', () => {
  it('creates an account with the trimmed name', () =>
    given([]).when(createAccount('  Acme  ')).then([accountCreated('Acme')]));
  it('refuses an account that exists', () =>
    given([accountCreated()]).when(createAccount()).thenThrows('account_exists'));
  it.each(['', '   ', 'x'.repeat(101)])('refuses the name %p', (name) =>
    given([]).when(createAccount(name)).thenThrows('invalid_name'));
});

describe('evolveAccount', () => {
  it('records the account and, when given, when it was created', () => {
    expect(foldAccount([])).toEqual({ exists: false });
    expect(foldAccount([accountCreated()])).toEqual({ exists: true, accountId: 3, name: 'Acme', createdAt: null });
    expect(evolveAccount(initialAccountState(), { ...accountCreated(), occurredAt: '2030-01-01T00:00:00Z' })).toMatchObject({
      createdAt: '2030-01-01T00:00:00Z',
    });
  });
});
