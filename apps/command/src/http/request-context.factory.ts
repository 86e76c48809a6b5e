import type { Request } from 'express';
import type { VerifiedKeyIdentity } from '@keys/domain';
import type { RequestContext } from '@keys/key-service';
import { correlationIdOf } from '@keys/platform';

/** Event metadata for a request: the billing key that acts, its IP (X-Forwarded-For only with TRUST_PROXY), its agent. */
export function requestContext(req: Request, caller: VerifiedKeyIdentity): RequestContext {
  const agent = req.header('user-agent');
  return {
    actor: { type: 'billing_key', keyId: caller.id, accountId: caller.accountId },
    ipAddress: req.ip ?? null,
    userAgent: agent ? printable(agent) : null,
    correlationId: correlationIdOf(req),
  };
}

/**
 * At most 256 code points with controls and unpaired surrogates replaced by U+FFFD: the header goes into event
 * metadata (jsonb refuses NUL and lone surrogates) and into audit output read in terminals.
 */
function printable(value: string): string {
  return Array.from(value).slice(0, 256).join('').replace(/[\p{Cc}\p{Cs}]/gu, '\uFFFD');
}
