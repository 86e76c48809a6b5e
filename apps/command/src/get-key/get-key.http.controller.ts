import { Get, Param, Req, UseInterceptors } from '@nestjs/common';
import type { Request } from 'express';
import { Caller } from '@keys/auth';
import type { VerifiedKeyIdentity } from '@keys/domain';
import { ApiError } from '@keys/platform';
import { type KeyReadView, ReadModelReader } from '@keys/read-models';
import { KeyIdPipe } from '../http/key-id.pipe';
import { keyTypeOfPath } from '../http/key-route';
import { ReadYourWritesInterceptor } from '../http/read-your-writes.interceptor';
import { BillingApiController } from '../http/billing-api.decorator';

@BillingApiController()
@UseInterceptors(ReadYourWritesInterceptor)
export class GetKeyHttpController {
  constructor(private readonly readModels: ReadModelReader) {}

  /** 404 for a missing or deleted key, another account's key, or a key of the other type. */
  @Get(['api/keys/:id', 'api/billing-keys/:id'])
  async get(@Param('id', KeyIdPipe) id: number, @Caller() caller: VerifiedKeyIdentity, @Req() req: Request): Promise<KeyReadView> {
    const key = await this.readModels.getKey(caller.accountId, keyTypeOfPath(req.path), id, new Date().toISOString());
    if (!key) throw ApiError.notFound();
    return key;
  }
}
