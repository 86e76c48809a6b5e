import { HttpException } from '@nestjs/common';
import type { KeyType } from './verdict';

// The key-service error body (docs/api.md, Errors), copied from libs/platform for the refusals the guard gives.

export type ApiErrorType = 'invalid_request_error' | 'authentication_error' | 'permission_error' | 'api_error';

export interface ApiErrorBody {
  error: { message: string; type: ApiErrorType; code: string };
}

/**
 * A refusal by KeyAuthGuard. An HttpException whose response is the error body, so Nest's default
 * exception handler answers `{"error":{"message","type","code"}}` with the status.
 */
export class KeyAuthError extends HttpException {
  constructor(
    status: number,
    readonly type: ApiErrorType,
    readonly code: string,
    message: string,
  ) {
    super({ error: { message, type, code } } satisfies ApiErrorBody, status);
    this.message = message;
  }

  body(): ApiErrorBody {
    return { error: { message: this.message, type: this.type, code: this.code } };
  }

  static invalidApiKey(message = 'The API key is missing, malformed or not recognised.'): KeyAuthError {
    return new KeyAuthError(401, 'authentication_error', 'invalid_api_key', message);
  }
  static expiredApiKey(): KeyAuthError {
    return new KeyAuthError(401, 'authentication_error', 'expired_api_key', 'The API key has expired.');
  }
  static keyInactive(): KeyAuthError {
    return new KeyAuthError(403, 'permission_error', 'key_inactive', 'The API key is deactivated.');
  }
  static wrongKeyType(expected: KeyType): KeyAuthError {
    return new KeyAuthError(
      403,
      'permission_error',
      'wrong_key_type',
      expected === 'billing'
        ? 'This route needs a billing key (mk-...); proxy keys are for inference only.'
        : 'This route needs a proxy key (ms-...); billing keys are for account management only.',
    );
  }
  static unavailable(message = 'The key verifier is unreachable; retry shortly.'): KeyAuthError {
    return new KeyAuthError(503, 'api_error', 'unavailable', message);
  }
}
