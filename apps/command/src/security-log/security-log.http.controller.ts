import { Get, Query, UseInterceptors } from '@nestjs/common';
import { Caller } from '@keys/auth';
import type { VerifiedKeyIdentity } from '@keys/domain';
import { ApiError } from '@keys/platform';
import { ReadModelReader, type SecurityLogView } from '@keys/read-models';
import { ReadYourWritesInterceptor } from '../http/read-your-writes.interceptor';
import { BillingApiController } from '../http/billing-api.decorator';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiQuery } from '@nestjs/swagger';
import { ApiRouteDocs } from '../http/api-error.schema';
import { ApiMinPositionHeader, READ_RESPONSE_HEADERS } from '../http/response-headers.schema';
import { BillingKeyActorSchema, NamedActorSchema, SecurityLogPageSchema } from '../http/security-log.schema';

export const SECURITY_LOG_MAX_LIMIT = 50;

@BillingApiController()
@ApiRouteDocs()
@ApiMinPositionHeader()
@ApiExtraModels(BillingKeyActorSchema, NamedActorSchema)
@UseInterceptors(ReadYourWritesInterceptor)
export class SecurityLogHttpController {
  constructor(private readonly readModels: ReadModelReader) {}

  /** The account's security log, newest first; pass the last id of a page as `before` to get the next one. */
  @Get('api/security-log')
  @ApiOperation({ operationId: 'listSecurityLog', summary: "The account's security log, newest first" })
  @ApiQuery({ name: 'limit', required: false, description: 'entries per page', schema: { type: 'integer', minimum: 1, maximum: SECURITY_LOG_MAX_LIMIT, default: SECURITY_LOG_MAX_LIMIT } })
  @ApiQuery({ name: 'before', required: false, description: 'the id of the last entry of the previous page', schema: { type: 'integer', minimum: 1 } })
  @ApiOkResponse({ type: SecurityLogPageSchema, headers: READ_RESPONSE_HEADERS })
  async list(
    @Caller() caller: VerifiedKeyIdentity,
    @Query('limit') limitParam: unknown,
    @Query('before') beforeParam: unknown,
  ): Promise<{ logs: SecurityLogView[] }> {
    const limit = limitParam === undefined ? SECURITY_LOG_MAX_LIMIT : integerParam(limitParam, 'limit', 1, SECURITY_LOG_MAX_LIMIT);
    const before = beforeParam === undefined ? undefined : integerParam(beforeParam, 'before', 1, Number.MAX_SAFE_INTEGER);
    return { logs: await this.readModels.securityLog(caller.accountId, limit, before) };
  }
}

function integerParam(value: unknown, name: string, min: number, max: number): number {
  const n = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw ApiError.validation(
      max === Number.MAX_SAFE_INTEGER ? `${name} must be a positive integer.` : `${name} must be an integer from ${min} to ${max}.`,
      name,
    );
  }
  return n;
}
