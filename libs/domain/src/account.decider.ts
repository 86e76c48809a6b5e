// The account decider: an account stream holds only AccountCreated for now.

import type { CreateAccount } from './commands';
import type { Decider, Recorded } from './decider';
import { DomainError } from './domain.errors';
import type { AccountCreated } from './events';
import { validName } from './name.rules';

export type AccountEvent = AccountCreated;

export type AccountState =
  | { exists: false }
  | { exists: true; accountId: number; name: string; createdAt: string | null };

export function initialAccountState(): AccountState {
  return { exists: false };
}

/** An envelope's `occurredAt` fills createdAt, as in evolveKey. */
export function evolveAccount(_state: AccountState, event: Recorded<AccountEvent>): AccountState {
  return { exists: true, accountId: event.data.accountId, name: event.data.name, createdAt: event.occurredAt ?? null };
}

export function foldAccount(events: readonly AccountEvent[]): AccountState {
  return events.reduce<AccountState>(evolveAccount, initialAccountState());
}

export function decideAccount(command: CreateAccount, state: AccountState): AccountEvent[] {
  if (state.exists) throw new DomainError('account_exists', `Account ${command.accountId} already exists.`);
  const name = validName(command.name, 'account');
  return [{ type: 'AccountCreated', data: { accountId: command.accountId, name } }];
}

/** The account stream's decider, for the command handler. */
export const accountDecider: Decider<AccountState, CreateAccount, AccountEvent> = {
  decide: decideAccount,
  evolve: evolveAccount,
  initialState: initialAccountState,
};
