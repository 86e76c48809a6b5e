import { KeyAuthError } from './api-error';
import type { KeyType, Refusal } from './verdict';

/** A refusal from the verifier → the HTTP error of docs/api.md. */
export function verdictToApiError(verdict: Refusal, scope: KeyType): KeyAuthError {
  switch (verdict.code) {
    case 'MALFORMED':
    case 'NOT_FOUND':
    case 'DELETED':
    case 'REVOKED':
    case 'BAD_REQUEST':
      // A revoked key reads like a deleted one: whoever holds a leaked key learns only that it does not work.
      return KeyAuthError.invalidApiKey();
    case 'EXPIRED':
      return KeyAuthError.expiredApiKey();
    case 'INACTIVE':
      return KeyAuthError.keyInactive();
    case 'WRONG_TYPE':
      return KeyAuthError.wrongKeyType(scope);
    default:
      return assertNever(verdict.code);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled verify code: ${JSON.stringify(value)}`);
}
