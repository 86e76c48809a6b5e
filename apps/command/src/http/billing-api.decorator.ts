import { Controller, UseGuards, UseInterceptors, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequireKey } from '@keys/auth';
import { BillingKeyAuthGuard } from './billing-key-auth.guard';
import { RateLimitGuard } from './rate-limit.guard';
import { VerificationPropagationInterceptor } from './verification-propagation.interceptor';

/**
 * Every /api/* controller: authenticated by a billing key through the one verification path (failures limited
 * per client IP), then rate limited per billing key, documented as such. A write answers once the verifiers
 * agree with it (VerificationPropagationInterceptor).
 */
export const BillingApiController = () =>
  applyDecorators(
    Controller(),
    ApiBearerAuth(),
    ApiTags('keys'),
    RequireKey('billing'),
    UseGuards(BillingKeyAuthGuard, RateLimitGuard),
    UseInterceptors(VerificationPropagationInterceptor),
  );
