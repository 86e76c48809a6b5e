// The one error body (docs/api.md, Errors): {"error":{"message","type","code"[,"param"]}}.

export type ApiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'api_error';

export interface ApiErrorBody {
  error: { message: string; type: ApiErrorType; code: string; param?: string };
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly type: ApiErrorType,
    readonly code: string,
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }

  body(): ApiErrorBody {
    const error: ApiErrorBody['error'] = { message: this.message, type: this.type, code: this.code };
    if (this.param !== undefined) error.param = this.param;
    return { error };
  }

  static validation(message: string, param?: string): ApiError {
    return new ApiError(400, 'invalid_request_error', 'validation_failed', message, param);
  }
  static invalidApiKey(message = 'The API key is missing, malformed or not recognised.'): ApiError {
    return new ApiError(401, 'authentication_error', 'invalid_api_key', message);
  }
  static expiredApiKey(): ApiError {
    return new ApiError(401, 'authentication_error', 'expired_api_key', 'The API key has expired.');
  }
  static keyInactive(): ApiError {
    return new ApiError(403, 'permission_error', 'key_inactive', 'The API key is deactivated.');
  }
  static wrongKeyType(expected: 'proxy' | 'billing'): ApiError {
    return new ApiError(
      403,
      'permission_error',
      'wrong_key_type',
      expected === 'billing'
        ? 'This route needs a billing key (mk-...); proxy keys are for inference only.'
        : 'This route needs a proxy key (ms-...); billing keys are for account management only.',
    );
  }
  static notFound(message = 'No such key in this account.'): ApiError {
    return new ApiError(404, 'not_found_error', 'key_not_found', message);
  }
  static conflict(code: string, message: string): ApiError {
    return new ApiError(409, 'conflict_error', code, message);
  }
  static unavailable(message = 'A backing service is unreachable; nothing was written. Retry shortly.'): ApiError {
    return new ApiError(503, 'api_error', 'unavailable', message);
  }
}
