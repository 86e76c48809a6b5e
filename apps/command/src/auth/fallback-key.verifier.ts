import { type KeyVerifier, VerifierUnavailableError } from '@keys/auth';
import type { KeyType, Verdict } from '@keys/domain';

/**
 * The command authenticates its billing keys through the NATS verifier like every other service, and asks
 * its own key_lookup (same database, same judgeKey) only when that cannot help:
 * - the verifier is unreachable (NATS away, none running, no answer in time), so writes keep working
 *   while NATS is down — the outbox relay catches up later;
 * - the verifier says NOT_FOUND, which for a billing key created milliseconds ago may only mean the event
 *   has not reached it yet. Every other verdict (DELETED, INACTIVE, ...) stands as the verifier gave it.
 */
export class FallbackKeyVerifier implements KeyVerifier {
  constructor(
    private readonly primary: KeyVerifier,
    private readonly fallback: KeyVerifier,
  ) {}

  async verify(key: string, scope: KeyType): Promise<Verdict> {
    try {
      const verdict = await this.primary.verify(key, scope);
      if (verdict.valid || verdict.code !== 'NOT_FOUND') return verdict;
    } catch (err) {
      if (!(err instanceof VerifierUnavailableError)) throw err;
    }
    return this.fallback.verify(key, scope);
  }
}
