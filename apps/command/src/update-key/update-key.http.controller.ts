import { Body, Param, Patch, Put, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Caller } from '@keys/auth';
import type { KeyCommand, KeyType, VerifiedKeyIdentity } from '@keys/domain';
import { KeyCommandService } from '@keys/key-service';
import { pickExpiry } from '../http/expiry.field';
import { KeyIdPipe } from '../http/key-id.pipe';
import { KeyRoute, RouteKeyType } from '../http/key-route';
import { POSITION_HEADER, toKeyView } from '../http/key.view';
import { requestContext } from '../http/request-context.factory';
import { UpdateKeyDto } from './update-key.dto';
import { BillingApiController } from '../http/billing-api.decorator';

@BillingApiController()
export abstract class UpdateKeyHttpController {
  constructor(private readonly keys: KeyCommandService) {}

  /** Rename, (de)activate and set or clear the expiry in one atomic change; 200 with the key after it. */
  @Put(':id')
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
    return toKeyView(change.state, this.keys.now());
  }

  /** PATCH has the same partial-update semantics as PUT here (every field is optional). */
  @Patch(':id')
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
