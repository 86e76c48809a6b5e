import { Get, Req, UseInterceptors } from '@nestjs/common';
import type { Request } from 'express';
import { Caller } from '@keys/auth';
import type { VerifiedKeyIdentity } from '@keys/domain';
import { type KeyReadView, ReadModelReader } from '@keys/read-models';
import { keyTypeOfPath } from '../http/key-route';
import { ReadYourWritesInterceptor } from '../http/read-your-writes.interceptor';
import { BillingApiController } from '../http/billing-api.decorator';

@BillingApiController()
@UseInterceptors(ReadYourWritesInterceptor)
export class ListKeysHttpController {
  constructor(private readonly readModels: ReadModelReader) {}

  /** The caller's account's keys of the route's type (proxy on /api/keys, billing on /api/billing-keys); deleted keys are not listed. */
  @Get(['api/keys', 'api/billing-keys'])
  async list(@Caller() caller: VerifiedKeyIdentity, @Req() req: Request): Promise<{ keys: KeyReadView[] }> {
    return { keys: await this.readModels.listKeys(caller.accountId, keyTypeOfPath(req.path), new Date().toISOString()) };
  }
}
