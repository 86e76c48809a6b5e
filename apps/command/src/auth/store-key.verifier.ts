import type { KeyVerifier } from '@keys/auth';
import { type KeyType, type Verdict, type VerifiableKey, judgeKey, refusal } from '@keys/domain';
import { type CommandDb, type KeyLookupRow, findKeysByHash } from '@keys/key-service';
import { hashKey, parseKey } from '@keys/key-material';

/** Most keys looked up in one statement; more wait for the next one. */
const MAX_BATCH = 256;

interface Waiting {
  hash: string;
  scope: KeyType;
  resolve(verdict: Verdict): void;
  reject(error: unknown): void;
}

/**
 * Authenticates billing keys against the command's own key_lookup: the table the append writes in the same
 * transaction as the events, so a billing key is refused by every command instance from the moment its
 * deactivation, revocation or deletion commits (before that write is even answered), with no event to wait for.
 *
 * Lookups are batched like the appends: requests that arrive while a lookup is in flight go together in the
 * next one (`hash = any(...)`), so under load authentication costs one statement per batch rather than a
 * round trip per request. (Through the NATS verifier it cost a round trip per request through NATS and the
 * verifier, and usage telemetry for billing keys came along; now BillingKeyUsage records it.)
 * Postgres unreachable rejects with its error, which answers 503 like every other write or read would.
 */
export class StoreKeyVerifier implements KeyVerifier {
  private queue: Waiting[] = [];
  private running = false;

  constructor(
    private readonly db: CommandDb,
    private readonly onValid: (verdict: Extract<Verdict, { valid: true }>, nowMs: number) => void = () => undefined,
  ) {}

  verify(key: string, scope: KeyType): Promise<Verdict> {
    const parsed = parseKey(key);
    if (!parsed.ok) return Promise.resolve(refusal('MALFORMED'));
    return new Promise<Verdict>((resolve, reject) => {
      this.queue.push({ hash: hashKey(parsed.key), scope, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          const rows = await findKeysByHash(this.db, [...new Set(batch.map((w) => w.hash))]);
          const byHash = new Map(rows.map((row) => [row.hash, row]));
          const now = Date.now();
          for (const waiting of batch) {
            const row = byHash.get(waiting.hash);
            const verdict = judgeKey(row && verifiableKey(row), waiting.scope, now);
            if (verdict.valid) this.onValid(verdict, now);
            waiting.resolve(verdict);
          }
        } catch (error) {
          for (const waiting of batch) waiting.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

/** The key_lookup row as the pure verdict takes it (the same judgeKey the verifier uses). */
export function verifiableKey(row: KeyLookupRow): VerifiableKey {
  return {
    keyId: row.key_id,
    accountId: row.account_id,
    keyType: row.key_type,
    name: row.name,
    prefix: row.prefix,
    active: row.active,
    expiresAt: row.expires_at ? row.expires_at.toISOString() : null,
    expiresAtMs: row.expires_at ? row.expires_at.getTime() : null,
    expired: row.expired,
    deleted: row.deleted,
    revoked: row.revoked,
  };
}
