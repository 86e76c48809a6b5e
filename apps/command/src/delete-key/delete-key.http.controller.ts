import { Delete, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Caller } from '@keys/auth';
import type { VerifiedKeyIdentity } from '@keys/domain';
import { KeyCommandService } from '@keys/key-service';
import { toApiError } from '../http/domain-error.mapper';
import { KeyIdPipe } from '../http/key-id.pipe';
import { keyTypeOfPath } from '../http/key-route';
import { POSITION_HEADER } from '../http/key.view';
import { requestContext } from '../http/request-context.factory';
import { BillingApiController } from '../http/billing-api.decorator';

@BillingApiController()
export class DeleteKeyHttpController {
  constructor(private readonly keys: KeyCommandService) {}

  /** Terminal: verification refuses the key from the moment this returns. */
  @Delete(['api/keys/:id', 'api/billing-keys/:id'])
  async delete(@Param('id', KeyIdPipe) id: number, @Caller() caller: VerifiedKeyIdentity, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    try {
      const change = await this.keys.changeKey(
        id,
        { accountId: caller.accountId, keyType: keyTypeOfPath(req.path) },
        (_state, now) => [{ type: 'DeleteKey', keyId: id, now }],
        requestContext(req, caller),
      );
      if (change.position !== null) res.setHeader(POSITION_HEADER, String(change.position));
      return { id, deleted: true };
    } catch (err) {
      throw toApiError(err);
    }
  }
}
