import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { KeyAuthError } from './api-error';
import { KEY_VERIFIER, type KeyVerifier } from './key-verifier';
import { counter } from './metrics';
import { VerifierUnavailableError } from './nats-key.verifier';
import type { KeyType, Verdict, VerifiedKeyIdentity } from './verdict';
import { verdictToApiError } from './verdict.mapper';

const SCOPE = 'keys:required-scope';

const authFailures = counter({
  name: 'keys_auth_failures_total',
  help: 'Requests refused 401/403 by key authentication, by error code (missing or unknown key, expired, inactive, wrong type)',
  labelNames: ['code'],
});

/** Marks a controller or route as needing a key of this type (`proxy` for inference, `billing` for account management). */
export const RequireKey = (scope: KeyType) => SetMetadata(SCOPE, scope);

interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  caller?: VerifiedKeyIdentity;
}

/**
 * Authenticates `Authorization: Bearer <key>` through the verifier and attaches the key's identity to
 * the request (read it with `@Caller()`). Routes without `@RequireKey` pass. Refusals are KeyAuthError (the
 * docs/api.md error body); no verdict at all (verifier unreachable) is 503 `unavailable`, never a 401.
 * The key is never logged or echoed.
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
    if (!key) throw this.refused(KeyAuthError.invalidApiKey('Send the key as "Authorization: Bearer <key>".'));
    let verdict: Verdict;
    try {
      verdict = await this.verifier.verify(key, scope);
    } catch (err) {
      // No verdict is not a refusal: the caller may retry, and must not be told the key is bad.
      if (err instanceof VerifierUnavailableError) throw this.toException(KeyAuthError.unavailable());
      throw err;
    }
    if (!verdict.valid) throw this.refused(verdictToApiError(verdict, scope));
    request.caller = verdict.key;
    return true;
  }

  /**
   * The exception thrown for an error; KeyAuthError by default. A service whose exception filter knows only its
   * own error class overrides this in a subclass (and uses the subclass in `@UseGuards`).
   */
  protected toException(error: KeyAuthError): unknown {
    return error;
  }

  /** Counts an authentication refusal (its error code only: never the key or the header). */
  private refused(error: KeyAuthError): unknown {
    authFailures.inc({ code: error.code });
    return this.toException(error);
  }
}

function bearerToken(header: string | string[] | undefined): string | null {
  if (typeof header !== 'string') return null;
  const match = /^Bearer +(\S{1,200})$/i.exec(header.trim());
  return match ? match[1] : null;
}

/** The authenticated key's identity (set by KeyAuthGuard). */
export const Caller = createParamDecorator((_data: unknown, context: ExecutionContext): VerifiedKeyIdentity => {
  const caller = context.switchToHttp().getRequest<AuthenticatedRequest>().caller;
  if (!caller) throw KeyAuthError.invalidApiKey();
  return caller;
});
