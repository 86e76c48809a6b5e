// The account decider: an account stream holds only AccountCreated for now.

import type { CreateAccount } from './commands';
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

/** `occurredAt` (the envelope's) fills createdAt, as in evolveKey. */
export function evolveAccount(_state: AccountState, event: AccountEvent, occurredAt?: string): AccountState {
  return { exists: true, accountId: event.data.accountId, name: event.data.name, createdAt: occurredAt ?? null };
}

export function foldAccount(events: readonly AccountEvent[]): AccountState {
  return events.reduce<AccountState>((state, event) => evolveAccount(state, event), initialAccountState());
}

export function decideAccount(command: CreateAccount, state: AccountState): AccountEvent[] {
  if (state.exists) throw new DomainError('account_exists', `Account ${command.accountId} already exists.`);
  const name = validName(command.name, 'account');
  return [{ type: 'AccountCreated', data: { accountId: command.accountId, name } }];
}
