import { type ArgumentsHost, Catch } from '@nestjs/common';
import { DomainError, assertNever } from '@keys/domain';
import { ConcurrentUpdateError } from '@keys/key-service';
import { ApiError, ApiExceptionFilter } from '@keys/platform';

/** A refusal the write path can throw, answered as a row of the error table in docs/api.md. */
export type DomainRefusal = DomainError | ConcurrentUpdateError;

export function toApiError(err: DomainRefusal): ApiError {
  if (err instanceof ConcurrentUpdateError) {
    return ApiError.conflict('concurrent_update', 'The key was changed concurrently; retry the request.');
  }
  switch (err.code) {
    case 'key_not_found':
      return ApiError.notFound();
    case 'key_deleted':
      return ApiError.conflict('key_deleted', 'The key is deleted; it accepts no change.');
    case 'key_expired':
      return ApiError.conflict('key_expired', 'The key has expired; it cannot be reactivated or given a new expiry.');
    case 'key_revoked':
      return ApiError.conflict('key_revoked', 'The key is revoked; it cannot be reactivated, given a new expiry or rolled.');
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

/**
 * Handlers throw domain refusals as they are; this filter gives them their HTTP status and body. Register it
 * after the catch-all ApiExceptionFilter: Nest asks the last-registered global filter first, so this one
 * takes the types it names and everything else still reaches the catch-all.
 */
@Catch(DomainError, ConcurrentUpdateError)
export class DomainErrorFilter extends ApiExceptionFilter {
  override catch(exception: DomainRefusal, host: ArgumentsHost): void {
    super.catch(toApiError(exception), host);
  }
}
