import { Get, Query, UseInterceptors } from '@nestjs/common';
import { Caller } from '@keys/auth';
import type { KeyType, VerifiedKeyIdentity } from '@keys/domain';
import { type KeyReadView, ReadModelReader } from '@keys/read-models';
import { KeyRoute, RouteKeyType } from '../http/key-route';
import { ReadYourWritesInterceptor } from '../http/read-your-writes.interceptor';
import { BillingApiController } from '../http/billing-api.decorator';
import { ApiOkResponse, ApiOperation, ApiQuery } from '@nestjs/swagger';
import { ApiError } from '@keys/platform';
import { ApiRouteDocs } from '../http/api-error.schema';
import { KeyListSchema } from '../http/key.schema';
import { KeyOperationId } from '../http/key-route';
import { ApiMinPositionHeader, READ_RESPONSE_HEADERS } from '../http/response-headers.schema';

/** Ten years: more than any key has existed, and a cutoff Postgres can always represent. */
export const UNUSED_FOR_DAYS_MAX = 3650;

function unusedForDaysParam(value: unknown): number {
  const n = typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= UNUSED_FOR_DAYS_MAX)) throw ApiError.validation(`unused_for_days must be an integer from 1 to ${UNUSED_FOR_DAYS_MAX}.`, 'unused_for_days');
  return n;
}

@BillingApiController()
@ApiRouteDocs()
@ApiMinPositionHeader()
@UseInterceptors(ReadYourWritesInterceptor)
export abstract class ListKeysHttpController {
  constructor(private readonly readModels: ReadModelReader) {}

  /** The caller's account's keys of the route's type (proxy on /api/keys, billing on /api/billing-keys); deleted keys are not listed. */
  @Get()
  @KeyOperationId({ proxy: 'listKeys', billing: 'listBillingKeys' })
  @ApiOperation({ summary: 'List the account\'s keys of the route\'s type', description: 'Oldest first; deleted keys are left out.' })
  @ApiQuery({
    name: 'unused_for_days',
    required: false,
    description: 'only keys not used (no VALID verification) for this many days; a never-used key counts from its createdAt',
    schema: { type: 'integer', minimum: 1, maximum: UNUSED_FOR_DAYS_MAX },
  })
  @ApiOkResponse({ type: KeyListSchema, headers: READ_RESPONSE_HEADERS })
  async list(@RouteKeyType() keyType: KeyType, @Caller() caller: VerifiedKeyIdentity, @Query('unused_for_days') unusedParam: unknown): Promise<{ keys: KeyReadView[] }> {
    const unusedForDays = unusedParam === undefined ? undefined : unusedForDaysParam(unusedParam);
    return { keys: await this.readModels.listKeys(caller.accountId, keyType, new Date().toISOString(), unusedForDays) };
  }
}

@KeyRoute('proxy')
export class ListProxyKeysHttpController extends ListKeysHttpController {}

@KeyRoute('billing')
export class ListBillingKeysHttpController extends ListKeysHttpController {}
