import { Get, Query, UseInterceptors } from '@nestjs/common';
import { Caller } from '@keys/auth';
import type { VerifiedKeyIdentity } from '@keys/domain';
import { ApiError } from '@keys/platform';
import { ReadModelReader, type SecurityLogView } from '@keys/read-models';
import { ReadYourWritesInterceptor } from '../http/read-your-writes.interceptor';
import { BillingApiController } from '../http/billing-api.decorator';

export const SECURITY_LOG_MAX_LIMIT = 50;

@BillingApiController()
@UseInterceptors(ReadYourWritesInterceptor)
export class SecurityLogHttpController {
  constructor(private readonly readModels: ReadModelReader) {}

  /** The account's security log, newest first; pass the last id of a page as `before` to get the next one. */
  @Get('api/security-log')
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
