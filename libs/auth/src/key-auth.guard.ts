import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { KeyType, Verdict, VerifiedKeyIdentity } from '@keys/domain';
import { ApiError, counter } from '@keys/platform';
import { KEY_VERIFIER, type KeyVerifier } from './key-verifier';
import { VerifierUnavailableError } from './nats-key.verifier';
import { verdictToApiError } from './verdict.mapper';

const SCOPE = 'keys:required-scope';

const authFailures = counter({
  name: 'keys_auth_failures_total',
  help: 'Requests refused 401/403 by key authentication, by error code (missing or unknown key, expired, inactive, wrong type)',
  labelNames: ['code'],
});

/** Marks a controller or route as needing a key of this type (`proxy` for /v1/*, `billing` for /api/*). */
export const RequireKey = (scope: KeyType) => SetMetadata(SCOPE, scope);

interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  caller?: VerifiedKeyIdentity;
}

/**
 * Authenticates `Authorization: Bearer <key>` through the verifier and attaches the key's identity to
 * the request. Refusals become the docs/api.md error body; no verdict at all (verifier unreachable) is 503
 * `unavailable`. The key is never logged or echoed.
 */
@Injectable()
export class KeyAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(KEY_VERIFIER) private readonly verifier: KeyVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const scope = this.reflector.getAllAndOverride<KeyType | undefined>(SCOPE, [context.getHandler(), context.getClass()]);
    if (!scope) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const key = bearerToken(request.headers.authorization);
    if (!key) throw refused(ApiError.invalidApiKey('Send the key as "Authorization: Bearer <key>".'));
    let verdict: Verdict;
    try {
      verdict = await this.verifier.verify(key, scope);
    } catch (err) {
      // No verdict is not a refusal: the caller may retry, and must not be told the key is bad.
      if (err instanceof VerifierUnavailableError) throw ApiError.unavailable('The key verifier is unreachable; retry shortly.');
      throw err;
    }
    if (!verdict.valid) throw refused(verdictToApiError(verdict, scope));
    request.caller = verdict.key;
    return true;
  }
}

/** Counts an authentication refusal (its error code only: never the key or the header). */
function refused(error: ApiError): ApiError {
  authFailures.inc({ code: error.code });
  return error;
}

function bearerToken(header: string | string[] | undefined): string | null {
  if (typeof header !== 'string') return null;
  const match = /^Bearer +(\S{1,200})$/i.exec(header.trim());
  return match ? match[1] : null;
}

/** The authenticated key's identity (set by KeyAuthGuard). */
export const Caller = createParamDecorator((_data: unknown, context: ExecutionContext): VerifiedKeyIdentity => {
  const caller = context.switchToHttp().getRequest<AuthenticatedRequest>().caller;
  if (!caller) throw ApiError.invalidApiKey();
  return caller;
});
