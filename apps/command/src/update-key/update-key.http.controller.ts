import { Body, Param, Patch, Put, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Caller } from '@keys/auth';
import type { KeyCommand, KeyType, VerifiedKeyIdentity } from '@keys/domain';
import { KeyCommandService } from '@keys/key-service';
import { ReadModelReader } from '@keys/read-models';
import { pickExpiry } from '../http/expiry.field';
import { KeyIdPipe } from '../http/key-id.pipe';
import { KeyRoute, RouteKeyType } from '../http/key-route';
import { POSITION_HEADER, toKeyView } from '../http/key.view';
import { requestContext } from '../http/request-context.factory';
import { UpdateKeyDto } from './update-key.dto';
import { BillingApiController } from '../http/billing-api.decorator';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import { ApiErrors, ApiRouteDocs } from '../http/api-error.schema';
import { KeySchema } from '../http/key.schema';
import { KeyOperationId } from '../http/key-route';
import { WRITE_RESPONSE_HEADERS } from '../http/response-headers.schema';

const UPDATE_ERRORS = { 404: ['key_not_found'], 409: ['key_expired', 'key_revoked', 'key_deleted', 'last_billing_key', 'concurrent_update'] } as const;

@BillingApiController()
@ApiRouteDocs()
export abstract class UpdateKeyHttpController {
  constructor(
    private readonly keys: KeyCommandService,
    private readonly readModels: ReadModelReader,
  ) {}

  /** Rename, (de)activate and set or clear the expiry in one atomic change; 200 with the key after it. */
  @Put(':id')
  @KeyOperationId({ proxy: 'updateKey', billing: 'updateBillingKey' })
  @ApiOperation({ summary: 'Change a key: rename, (de)activate, set or clear the expiry', description: 'One atomic change; the same as PATCH. A change that changes nothing appends nothing and has no X-Keys-Position.' })
  @ApiParam({ name: 'id', description: 'the key id', schema: { type: 'integer', minimum: 1 } })
  @ApiBody({ type: UpdateKeyDto, required: false })
  @ApiOkResponse({ type: KeySchema, headers: WRITE_RESPONSE_HEADERS })
  @ApiErrors(UPDATE_ERRORS)
  async update(
    @RouteKeyType() keyType: KeyType,
    @Param('id', KeyIdPipe) id: number,
    @Body() body: UpdateKeyDto,
    @Caller() caller: VerifiedKeyIdentity,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const expiresAt = pickExpiry(body);
    const change = await this.keys.changeKey(
      id,
      { accountId: caller.accountId, keyType },
      (_state, now) => {
        const commands: KeyCommand[] = [];
        if (body.name !== undefined) commands.push({ type: 'RenameKey', keyId: id, name: body.name, now });
        // Expiry before reactivation, so "active: true" with a new future expiry is judged on the new expiry.
        if (expiresAt !== undefined) commands.push({ type: 'SetKeyExpiry', keyId: id, expiresAt, now });
        if (body.active === false) commands.push({ type: 'DeactivateKey', keyId: id, now });
        if (body.active === true) commands.push({ type: 'ReactivateKey', keyId: id, now });
        return commands;
      },
      requestContext(req, caller),
    );
    if (change.position !== null) res.setHeader(POSITION_HEADER, String(change.position));
    return toKeyView(change.state, this.keys.now(), await this.readModels.lastUsedAt(id));
  }

  /** PATCH has the same partial-update semantics as PUT here (every field is optional). */
  @Patch(':id')
  @KeyOperationId({ proxy: 'patchKey', billing: 'patchBillingKey' })
  @ApiOperation({ summary: 'Change a key (the same as PUT)' })
  @ApiParam({ name: 'id', description: 'the key id', schema: { type: 'integer', minimum: 1 } })
  @ApiBody({ type: UpdateKeyDto, required: false })
  @ApiOkResponse({ type: KeySchema, headers: WRITE_RESPONSE_HEADERS })
  @ApiErrors(UPDATE_ERRORS)
  patch(
    @RouteKeyType() keyType: KeyType,
    @Param('id', KeyIdPipe) id: number,
    @Body() body: UpdateKeyDto,
    @Caller() caller: VerifiedKeyIdentity,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.update(keyType, id, body, caller, req, res);
  }
}

@KeyRoute('proxy')
export class UpdateProxyKeyHttpController extends UpdateKeyHttpController {}

@KeyRoute('billing')
export class UpdateBillingKeyHttpController extends UpdateKeyHttpController {}
