import { Get, Param, UseInterceptors } from '@nestjs/common';
import { Caller } from '@keys/auth';
import type { KeyType, VerifiedKeyIdentity } from '@keys/domain';
import { ApiError } from '@keys/platform';
import { type KeyReadView, ReadModelReader } from '@keys/read-models';
import { KeyIdPipe } from '../http/key-id.pipe';
import { KeyRoute, RouteKeyType } from '../http/key-route';
import { ReadYourWritesInterceptor } from '../http/read-your-writes.interceptor';
import { BillingApiController } from '../http/billing-api.decorator';

@BillingApiController()
@UseInterceptors(ReadYourWritesInterceptor)
export abstract class GetKeyHttpController {
  constructor(private readonly readModels: ReadModelReader) {}

  /** 404 for a missing or deleted key, another account's key, or a key of the other type. */
  @Get(':id')
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
