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
    userAgent: agent ? agent.slice(0, 256) : null,
    correlationId: correlationIdOf(req),
  };
}
