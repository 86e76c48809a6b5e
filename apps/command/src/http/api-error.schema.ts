import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiHeader, ApiProperty, ApiPropertyOptional, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { REQUEST_ID_RESPONSE_HEADER } from './response-headers.schema';

// The one error body of docs/api.md (Errors) in OpenAPI, and the decorators that document which codes a route
// answers with which status. Documentation only: ApiExceptionFilter and DomainErrorFilter produce the bodies.

export class ApiErrorSchema {
  @ApiProperty({ description: 'a sentence for people; may change (match on code)' })
  message!: string;

  @ApiProperty({ enum: ['invalid_request_error', 'authentication_error', 'permission_error', 'not_found_error', 'conflict_error', 'api_error'] })
  type!: string;

  @ApiProperty({ description: 'stable, machine-readable; see the codes of each response' })
  code!: string;

  @ApiPropertyOptional({ description: 'the field, path parameter, query parameter or header to blame, when there is one' })
  param?: string;
}

export class ApiErrorBodySchema {
  @ApiProperty({ type: ApiErrorSchema })
  error!: ApiErrorSchema;
}

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500 | 503;

/** Codes per status, as in docs/api.md's error table. */
export type ErrorCodes = Partial<Record<ErrorStatus, readonly string[]>>;

const RETRY_AFTER = { 'Retry-After': { description: 'seconds until a request may succeed', schema: { type: 'integer', minimum: 1 } } };

/**
 * Documents error responses: each status references the shared error body and narrows `code` to the ones that
 * status carries on the route, so a client (and the contract test) knows exactly what to expect.
 */
export function ApiErrors(codes: ErrorCodes) {
  return applyDecorators(
    ApiExtraModels(ApiErrorBodySchema, ApiErrorSchema),
    ...Object.entries(codes).map(([status, list]) =>
      ApiResponse({
        status: Number(status),
        description: `error: ${list!.join(', ')}`,
        headers: { ...REQUEST_ID_RESPONSE_HEADER, ...(status === '429' ? RETRY_AFTER : {}) },
        schema: {
          allOf: [
            { $ref: getSchemaPath(ApiErrorBodySchema) },
            { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string', enum: [...list!] } } } } },
          ],
        },
      }),
    ),
  );
}

/**
 * What every /api/* route can answer besides its own outcomes: the edge (bodies: 400, 413, 415), authentication
 * by billing key (401, 403), the rate limits (429), and failures of the backing services (500, 503).
 */
export const API_ROUTE_ERRORS: ErrorCodes = {
  400: ['validation_failed'],
  401: ['invalid_api_key', 'expired_api_key'],
  403: ['key_inactive', 'wrong_key_type'],
  413: ['payload_too_large'],
  415: ['unsupported_media_type'],
  429: ['rate_limited'],
  500: ['internal_error', 'request_failed'],
  503: ['unavailable'],
};

/** Class decorator for every /api/* controller: the shared errors and the X-Request-Id request header. */
export function ApiRouteDocs() {
  return applyDecorators(
    ApiErrors(API_ROUTE_ERRORS),
    ApiHeader({
      name: 'X-Request-Id',
      required: false,
      description: 'your id for the request, echoed back and stored as the events\' correlation id when it matches [\\w.:-]{1,128}; otherwise a generated UUID',
      schema: { type: 'string' },
    }),
  );
}
