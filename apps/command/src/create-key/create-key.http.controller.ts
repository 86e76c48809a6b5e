import { Body, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Caller } from '@keys/auth';
import type { KeyType, VerifiedKeyIdentity } from '@keys/domain';
import { KeyCommandService } from '@keys/key-service';
import { pickExpiry } from '../http/expiry.field';
import { KeyRoute, RouteKeyType } from '../http/key-route';
import { POSITION_HEADER, toKeyView } from '../http/key.view';
import { requestContext } from '../http/request-context.factory';
import { CreateKeyDto } from './create-key.dto';
import { BillingApiController } from '../http/billing-api.decorator';
import { ApiCreatedResponse, ApiOperation } from '@nestjs/swagger';
import { ApiErrors, ApiRouteDocs } from '../http/api-error.schema';
import { CreatedKeySchema } from '../http/key.schema';
import { KeyOperationId } from '../http/key-route';
import { WRITE_RESPONSE_HEADERS } from '../http/response-headers.schema';

@BillingApiController()
@ApiRouteDocs()
export abstract class CreateKeyHttpController {
  constructor(private readonly keys: KeyCommandService) {}

  /** 201 with the full key: the only response that ever carries it. */
  @Post()
  @KeyOperationId({ proxy: 'createKey', billing: 'createBillingKey' })
  @ApiOperation({ summary: 'Create a key of the route\'s type', description: 'The answer carries the full key; no other answer ever does.' })
  @ApiCreatedResponse({ type: CreatedKeySchema, headers: WRITE_RESPONSE_HEADERS })
  @ApiErrors({ 409: ['concurrent_update'] })
  @HttpCode(201)
  async create(
    @RouteKeyType() keyType: KeyType,
    @Body() body: CreateKeyDto,
    @Caller() caller: VerifiedKeyIdentity,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const expiresAt = pickExpiry(body) ?? null;
    const issued = await this.keys.createKey({ accountId: caller.accountId, keyType, name: body.name, expiresAt }, requestContext(req, caller));
    res.setHeader(POSITION_HEADER, String(issued.position));
    const view = toKeyView(issued.state, this.keys.now());
    return { id: view.id, key: issued.key, name: view.name, prefix: view.prefix, active: view.active, createdAt: view.createdAt, expiresAt: view.expiresAt, lastUsedAt: view.lastUsedAt };
  }
}

@KeyRoute('proxy')
export class CreateProxyKeyHttpController extends CreateKeyHttpController {}

@KeyRoute('billing')
export class CreateBillingKeyHttpController extends CreateKeyHttpController {}
