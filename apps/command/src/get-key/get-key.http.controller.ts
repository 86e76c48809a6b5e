import { Get, Param, UseInterceptors } from '@nestjs/common';
import { Caller } from '@keys/auth';
import type { KeyType, VerifiedKeyIdentity } from '@keys/domain';
import { ApiError } from '@keys/platform';
import { type KeyReadView, ReadModelReader } from '@keys/read-models';
import { KeyIdPipe } from '../http/key-id.pipe';
import { KeyRoute, RouteKeyType } from '../http/key-route';
import { ReadYourWritesInterceptor } from '../http/read-your-writes.interceptor';
import { BillingApiController } from '../http/billing-api.decorator';
import { ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import { ApiErrors, ApiRouteDocs } from '../http/api-error.schema';
import { KeySchema } from '../http/key.schema';
import { KeyOperationId } from '../http/key-route';
import { ApiMinPositionHeader, READ_RESPONSE_HEADERS } from '../http/response-headers.schema';

@BillingApiController()
@ApiRouteDocs()
@ApiMinPositionHeader()
@UseInterceptors(ReadYourWritesInterceptor)
export abstract class GetKeyHttpController {
  constructor(private readonly readModels: ReadModelReader) {}

  /** 404 for a missing or deleted key, another account's key, or a key of the other type. */
  @Get(':id')
  @KeyOperationId({ proxy: 'getKey', billing: 'getBillingKey' })
  @ApiOperation({ summary: 'Get one key of the route\'s type' })
  @ApiParam({ name: 'id', description: 'the key id', schema: { type: 'integer', minimum: 1 } })
  @ApiOkResponse({ type: KeySchema, headers: READ_RESPONSE_HEADERS })
  @ApiErrors({ 404: ['key_not_found'] })
  async get(@RouteKeyType() keyType: KeyType, @Param('id', KeyIdPipe) id: number, @Caller() caller: VerifiedKeyIdentity): Promise<KeyReadView> {
    const key = await this.readModels.getKey(caller.accountId, keyType, id, new Date().toISOString());
    if (!key) throw ApiError.notFound();
    return key;
  }
}

@KeyRoute('proxy')
export class GetProxyKeyHttpController extends GetKeyHttpController {}

@KeyRoute('billing')
export class GetBillingKeyHttpController extends GetKeyHttpController {}
