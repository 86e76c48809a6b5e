import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiError, counter, fromStatus, rawBodyOf } from '@keys/platform';
import { COMMAND_CONFIG, type CommandConfig } from '../command.config';
import { TokenBuckets } from '../http/token-buckets';
import { GithubSignatureVerifier } from './github-public-keys';

const refused = counter({ name: 'keys_secret_scanning_refused_total', help: 'Secret-scanning alerts refused before reading them, by reason', labelNames: ['reason'] });

export const SIGNATURE_HEADERS = { identifier: 'Github-Public-Key-Identifier', signature: 'Github-Public-Key-Signature' } as const;

/**
 * The secret-scanning route's authentication instead of a billing key: GitHub's signature over the raw body.
 * Without SECRET_SCANNING_PUBLIC_KEYS_FILE the route does not exist (404). A failed signature costs the client
 * IP a token of the same kind of bucket as failed billing-key authentications (AUTH_FAILURES_PER_MINUTE), so
 * forging alerts is bounded per IP like guessing keys.
 */
@Injectable()
export class GithubSignatureGuard implements CanActivate {
  private readonly verifier: GithubSignatureVerifier | null;
  private readonly failures: TokenBuckets<string> | null;

  constructor(@Inject(COMMAND_CONFIG) config: CommandConfig) {
    this.verifier = config.secretScanningPublicKeysFile ? new GithubSignatureVerifier(config.secretScanningPublicKeysFile) : null;
    this.failures = config.authFailuresPerMinute > 0 ? new TokenBuckets<string>(config.authFailuresPerMinute / 60, config.authFailureBurst) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.verifier) throw fromStatus(404);
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const ip = req.ip ?? 'unknown';
    const retryAfter = this.failures?.exhausted(ip, Date.now()) ?? null;
    if (retryAfter !== null) {
      refused.labels('rate_limited').inc();
      http.getResponse<Response>().setHeader('Retry-After', String(retryAfter));
      throw new ApiError(429, 'invalid_request_error', 'rate_limited', `Too many failed signatures from this address; retry in ${retryAfter} s.`);
    }
    const outcome = this.verifier.check(rawBodyOf(req), req.header(SIGNATURE_HEADERS.identifier), req.header(SIGNATURE_HEADERS.signature));
    if (outcome === 'valid') return true;
    refused.labels(outcome).inc();
    this.failures?.take(ip, Date.now());
    throw new ApiError(401, 'authentication_error', 'invalid_signature', 'The alert is not signed by a known GitHub secret-scanning key.');
  }
}
