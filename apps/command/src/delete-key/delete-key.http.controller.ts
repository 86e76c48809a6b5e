import { Delete, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Caller } from '@keys/auth';
import type { KeyType, VerifiedKeyIdentity } from '@keys/domain';
import { KeyCommandService } from '@keys/key-service';
import { KeyIdPipe } from '../http/key-id.pipe';
import { KeyRoute, RouteKeyType } from '../http/key-route';
import { POSITION_HEADER } from '../http/key.view';
import { requestContext } from '../http/request-context.factory';
import { BillingApiController } from '../http/billing-api.decorator';
import { ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import { ApiErrors, ApiRouteDocs } from '../http/api-error.schema';
import { DeletedKeySchema } from '../http/key.schema';
import { KeyOperationId } from '../http/key-route';
import { WRITE_RESPONSE_HEADERS } from '../http/response-headers.schema';

@BillingApiController()
@ApiRouteDocs()
export abstract class DeleteKeyHttpController {
  constructor(private readonly keys: KeyCommandService) {}

  /** Terminal: verification refuses the key from the moment this returns. */
  @Delete(':id')
  @KeyOperationId({ proxy: 'deleteKey', billing: 'deleteBillingKey' })
  @ApiOperation({ summary: 'Delete a key', description: 'Terminal: verification refuses the key from the moment this answers.' })
  @ApiParam({ name: 'id', description: 'the key id', schema: { type: 'integer', minimum: 1 } })
  @ApiOkResponse({ type: DeletedKeySchema, headers: WRITE_RESPONSE_HEADERS })
  @ApiErrors({ 404: ['key_not_found'], 409: ['key_deleted', 'last_billing_key', 'concurrent_update'] })
  async delete(
    @RouteKeyType() keyType: KeyType,
    @Param('id', KeyIdPipe) id: number,
    @Caller() caller: VerifiedKeyIdentity,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const change = await this.keys.changeKey(
      id,
      { accountId: caller.accountId, keyType },
      (_state, now) => [{ type: 'DeleteKey', keyId: id, now }],
      requestContext(req, caller),
    );
    if (change.position !== null) res.setHeader(POSITION_HEADER, String(change.position));
    return { id, deleted: true };
  }
}

@KeyRoute('proxy')
export class DeleteProxyKeyHttpController extends DeleteKeyHttpController {}

@KeyRoute('billing')
export class DeleteBillingKeyHttpController extends DeleteKeyHttpController {}
