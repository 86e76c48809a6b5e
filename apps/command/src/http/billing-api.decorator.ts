import { Controller, UseGuards, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { KeyAuthGuard, RequireKey } from '@keys/auth';

/** Every /api/* controller: authenticated by a billing key through the one verification path, documented as such. */
export const BillingApiController = () =>
  applyDecorators(Controller(), ApiBearerAuth(), ApiTags('keys'), RequireKey('billing'), UseGuards(KeyAuthGuard));
