import { Controller, UseGuards, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequireKey } from '@keys/auth';
import { BillingKeyAuthGuard } from './billing-key-auth.guard';
import { RateLimitGuard } from './rate-limit.guard';

/**
 * Every /api/* controller: authenticated by a billing key through the one verification path (failures limited
 * per client IP), then rate limited per billing key, documented as such.
 */
export const BillingApiController = () =>
  applyDecorators(Controller(), ApiBearerAuth(), ApiTags('keys'), RequireKey('billing'), UseGuards(BillingKeyAuthGuard, RateLimitGuard));
