import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { ApiError, type ApiErrorType } from './api-error';
import { isUnavailableError } from './unavailable';

/**
 * Every error leaves in the one error body (docs/api.md, Errors). Unknown errors become a 500 without detail; the cause is logged
 * by class and message only (requests and headers are never logged, so no key can leak).
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const error = this.toApiError(exception);
    if (response.headersSent) return;
    response.status(error.status).json(error.body());
  }

  private toApiError(exception: unknown): ApiError {
    if (exception instanceof ApiError) return exception;
    if (exception instanceof HttpException) return fromStatus(exception.getStatus());
    if (isUnavailableError(exception)) return ApiError.unavailable();
    const status = (exception as { status?: number; statusCode?: number })?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) return fromStatus(status);
    this.logger.error(`unhandled ${(exception as Error)?.name ?? typeof exception}: ${(exception as Error)?.message ?? ''}`);
    return new ApiError(500, 'api_error', 'internal_error', 'Something went wrong on our side; nothing was half-written.');
  }
}

export function fromStatus(status: number): ApiError {
  const known: Record<number, [ApiErrorType, string, string]> = {
    400: ['invalid_request_error', 'validation_failed', 'The request is not valid.'],
    401: ['authentication_error', 'invalid_api_key', 'The API key is missing, malformed or not recognised.'],
    403: ['permission_error', 'forbidden', 'This key may not do that.'],
    404: ['not_found_error', 'route_not_found', 'No such route.'],
    405: ['invalid_request_error', 'method_not_allowed', 'This method is not allowed on this route.'],
    413: ['invalid_request_error', 'payload_too_large', 'The request body is too large (limit 16 KiB).'],
    415: ['invalid_request_error', 'unsupported_media_type', 'The request body must be JSON (Content-Type: application/json).'],
    429: ['invalid_request_error', 'rate_limited', 'Too many requests; slow down.'],
    503: ['api_error', 'unavailable', 'A backing service is unreachable; nothing was written. Retry shortly.'],
  };
  const entry = known[status];
  if (!entry) return new ApiError(status >= 500 ? 500 : status, status >= 500 ? 'api_error' : 'invalid_request_error', 'request_failed', 'The request failed.');
  // Framework messages may echo request details, so only our own sentences leave.
  const [type, code, message] = entry;
  return new ApiError(status, type, code, message);
}
