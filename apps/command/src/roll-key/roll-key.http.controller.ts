import { Body, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Caller } from '@keys/auth';
import type { KeyType, VerifiedKeyIdentity } from '@keys/domain';
import { KeyCommandService } from '@keys/key-service';
import { KeyIdPipe } from '../http/key-id.pipe';
import { KeyRoute, RouteKeyType } from '../http/key-route';
import { POSITION_HEADER, toKeyView } from '../http/key.view';
import { requestContext } from '../http/request-context.factory';
import { RollKeyDto } from './roll-key.dto';
import { BillingApiController } from '../http/billing-api.decorator';
import { ApiBody, ApiCreatedResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import { ApiErrors, ApiRouteDocs } from '../http/api-error.schema';
import { CreatedKeySchema } from '../http/key.schema';
import { KeyOperationId } from '../http/key-route';
import { WRITE_RESPONSE_HEADERS } from '../http/response-headers.schema';

export const DEFAULT_ROLL_OVERLAP_SECONDS = 24 * 60 * 60;

@BillingApiController()
@ApiRouteDocs()
export abstract class RollKeyHttpController {
  constructor(private readonly keys: KeyCommandService) {}

  /** 201 with the new key (full key, once); the old key expires after the overlap. */
  @Post(':id/roll')
  @KeyOperationId({ proxy: 'rollKey', billing: 'rollBillingKey' })
  @ApiOperation({ summary: 'Roll a key: a new key with the same name', description: 'The old key keeps working for the overlap (default 24 h), never later than its own expiry.' })
  @ApiParam({ name: 'id', description: 'the key id', schema: { type: 'integer', minimum: 1 } })
  @ApiBody({ type: RollKeyDto, required: false })
  @ApiCreatedResponse({ type: CreatedKeySchema, headers: WRITE_RESPONSE_HEADERS })
  @ApiErrors({ 404: ['key_not_found'], 409: ['key_expired', 'key_revoked', 'key_deleted', 'last_billing_key', 'concurrent_update'] })
  @HttpCode(201)
  async roll(
    @RouteKeyType() keyType: KeyType,
    @Param('id', KeyIdPipe) id: number,
    @Body() body: RollKeyDto,
    @Caller() caller: VerifiedKeyIdentity,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const rolled = await this.keys.rollKey(
      id,
      { accountId: caller.accountId, keyType },
      body.expires_in_seconds ?? DEFAULT_ROLL_OVERLAP_SECONDS,
      requestContext(req, caller),
    );
    res.setHeader(POSITION_HEADER, String(rolled.position));
    const view = toKeyView(rolled.state, this.keys.now());
    return { id: view.id, key: rolled.key, name: view.name, prefix: view.prefix, active: view.active, createdAt: view.createdAt, expiresAt: view.expiresAt, lastUsedAt: view.lastUsedAt };
  }
}

@KeyRoute('proxy')
export class RollProxyKeyHttpController extends RollKeyHttpController {}

@KeyRoute('billing')
export class RollBillingKeyHttpController extends RollKeyHttpController {}
