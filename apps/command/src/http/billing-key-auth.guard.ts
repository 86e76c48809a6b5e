import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { KeyAuthGuard } from '@keys/auth';
import { ApiError, counter } from '@keys/platform';
import { COMMAND_CONFIG, type CommandConfig } from '../command.config';
import { TokenBuckets } from './token-buckets';

const refusedBeforeAuth = counter({
  name: 'keys_auth_failure_limited_total',
  help: 'Requests answered 429 because their client IP failed authentication too often (no key lookup was made)',
});

/**
 * Billing-key authentication with a price on failure: each 401/403 takes a token from the client IP's bucket,
 * and an IP without tokens gets 429 before its key is looked at. Guessing keys, or flooding the API with
 * well-formed unknown ones (each a verifier round trip and a lookup), is then bounded per IP, while callers
 * with a valid key never touch the bucket. Per command instance, like the per-key rate limit.
 */
@Injectable()
export class BillingKeyAuthGuard implements CanActivate {
  private readonly failures: TokenBuckets<string> | null;

  constructor(
    private readonly auth: KeyAuthGuard,
    @Inject(COMMAND_CONFIG) config: CommandConfig,
  ) {
    this.failures = config.authFailuresPerMinute > 0 ? new TokenBuckets<string>(config.authFailuresPerMinute / 60, config.authFailureBurst) : null;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.failures) return this.auth.canActivate(context);
    const http = context.switchToHttp();
    const ip = http.getRequest<Request>().ip ?? 'unknown';
    const retryAfter = this.failures.exhausted(ip, Date.now());
    if (retryAfter !== null) {
      refusedBeforeAuth.inc();
      http.getResponse<Response>().setHeader('Retry-After', String(retryAfter));
      throw new ApiError(429, 'invalid_request_error', 'rate_limited', `Too many failed authentications from this address; retry in ${retryAfter} s.`);
    }
    try {
      return await this.auth.canActivate(context);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) this.failures.take(ip, Date.now());
      throw err;
    }
  }
}
