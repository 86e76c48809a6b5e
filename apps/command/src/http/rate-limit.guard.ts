import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import type { VerifiedKeyIdentity } from '@keys/domain';
import { ApiError, counter } from '@keys/platform';
import { COMMAND_CONFIG, type CommandConfig } from '../command.config';
import { TokenBuckets } from './token-buckets';

const rateLimited = counter({ name: 'keys_rate_limited_total', help: 'Requests answered 429 because their billing key exceeded RATE_LIMIT_PER_SECOND (per command instance)' });

/**
 * 429 per billing key once it exceeds RATE_LIMIT_PER_SECOND (burst RATE_LIMIT_BURST), with Retry-After.
 * Runs after authentication, so it counts only authenticated callers; per command instance.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly buckets: TokenBuckets | null;

  constructor(@Inject(COMMAND_CONFIG) config: CommandConfig) {
    this.buckets = config.rateLimitPerSecond > 0 ? new TokenBuckets(config.rateLimitPerSecond, config.rateLimitBurst) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.buckets) return true;
    const http = context.switchToHttp();
    const caller = http.getRequest<{ caller?: VerifiedKeyIdentity }>().caller;
    if (!caller) return true;
    const taken = this.buckets.take(caller.id, Date.now());
    if (taken.ok) return true;
    rateLimited.inc();
    http.getResponse<Response>().setHeader('Retry-After', String(taken.retryAfterSeconds));
    throw new ApiError(429, 'invalid_request_error', 'rate_limited', `Too many requests for this key; retry in ${taken.retryAfterSeconds} s.`);
  }
}
