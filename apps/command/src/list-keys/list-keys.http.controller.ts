import { Get, UseInterceptors } from '@nestjs/common';
import { Caller } from '@keys/auth';
import type { KeyType, VerifiedKeyIdentity } from '@keys/domain';
import { type KeyReadView, ReadModelReader } from '@keys/read-models';
import { KeyRoute, RouteKeyType } from '../http/key-route';
import { ReadYourWritesInterceptor } from '../http/read-your-writes.interceptor';
import { BillingApiController } from '../http/billing-api.decorator';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { ApiRouteDocs } from '../http/api-error.schema';
import { KeyListSchema } from '../http/key.schema';
import { KeyOperationId } from '../http/key-route';
import { ApiMinPositionHeader, READ_RESPONSE_HEADERS } from '../http/response-headers.schema';

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
  @ApiOkResponse({ type: KeyListSchema, headers: READ_RESPONSE_HEADERS })
  async list(@RouteKeyType() keyType: KeyType, @Caller() caller: VerifiedKeyIdentity): Promise<{ keys: KeyReadView[] }> {
    return { keys: await this.readModels.listKeys(caller.accountId, keyType, new Date().toISOString()) };
  }
}

@KeyRoute('proxy')
export class ListProxyKeysHttpController extends ListKeysHttpController {}

@KeyRoute('billing')
export class ListBillingKeysHttpController extends ListKeysHttpController {}
