export * from './events';
export * from './commands';
export { DomainError, DOMAIN_ERROR_CODES, isDomainError, type DomainErrorCode } from './domain.errors';
export { NAME_MAX_LENGTH, nameProblem } from './name.rules';
export { type Decider, type Recorded } from './decider';
export {
  keyDecider,
  initialKeyState,
  evolveKey,
  foldKey,
  decideKey,
  keyStatus,
  isExpiredAt,
  type KeyState,
  type ExistingKeyState,
  type KeyStatus,
  type Revocation,
} from './key.decider';
export {
  accountDecider,
  initialAccountState,
  evolveAccount,
  foldAccount,
  decideAccount,
  type AccountState,
  type AccountEvent,
} from './account.decider';
export * from './verification';
export { accountKeysAsOf, type AccountKeysAsOf, type KeyAsOf } from './account-keys.as-of';
export { leakLocation, revocationNoteProblem, REVOCATION_NOTE_MAX_LENGTH } from './revocation.rules';
