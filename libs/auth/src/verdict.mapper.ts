import { type Verdict, assertNever } from '@keys/domain';
import { ApiError } from '@keys/platform';

/** A refusal from the verifier → the HTTP error body of docs/api.md. */
export function verdictToApiError(verdict: Exclude<Verdict, { valid: true }>, scope: 'proxy' | 'billing'): ApiError {
  switch (verdict.code) {
    case 'MALFORMED':
    case 'NOT_FOUND':
    case 'DELETED':
    case 'BAD_REQUEST':
      return ApiError.invalidApiKey();
    case 'EXPIRED':
      return ApiError.expiredApiKey();
    case 'INACTIVE':
      return ApiError.keyInactive();
    case 'WRONG_TYPE':
      return ApiError.wrongKeyType(scope);
    default:
      return assertNever(verdict.code);
  }
}
