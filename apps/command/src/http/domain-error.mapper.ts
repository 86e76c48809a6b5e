import { DomainError, assertNever } from '@keys/domain';
import { ConcurrentUpdateError } from '@keys/key-service';
import { ApiError } from '@keys/platform';

/** Domain refusals → the DESIGN §4 error table. Anything else is rethrown for the global filter. */
export function toApiError(err: unknown): unknown {
  if (err instanceof ConcurrentUpdateError) {
    return ApiError.conflict('concurrent_update', 'The key was changed concurrently; retry the request.');
  }
  if (!(err instanceof DomainError)) return err;
  switch (err.code) {
    case 'key_not_found':
      return ApiError.notFound();
    case 'key_deleted':
      return ApiError.conflict('key_deleted', 'The key is deleted; it accepts no change.');
    case 'key_expired':
      return ApiError.conflict('key_expired', 'The key has expired; it cannot be reactivated or given a new expiry.');
    case 'last_billing_key':
      return ApiError.conflict('last_billing_key', err.message);
    case 'key_exists':
    case 'account_exists':
    case 'expiry_not_reached':
      return ApiError.conflict(err.code, err.message);
    case 'invalid_name':
      return ApiError.validation(err.message, 'name');
    case 'expiry_not_in_future':
      return ApiError.validation(err.message, 'expires_at');
    default:
      return assertNever(err.code);
  }
}
