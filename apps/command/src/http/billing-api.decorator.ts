import { Controller, UseGuards, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { KeyAuthGuard, RequireKey } from '@keys/auth';
import { RateLimitGuard } from './rate-limit.guard';

/**
 * Every /api/* controller: authenticated by a billing key through the one verification path, then rate
 * limited per billing key, documented as such.
 */
export const BillingApiController = () =>
  applyDecorators(Controller(), ApiBearerAuth(), ApiTags('keys'), RequireKey('billing'), UseGuards(KeyAuthGuard, RateLimitGuard));
