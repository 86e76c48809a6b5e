import type { KeyVerifier } from '@keys/auth';
import { type KeyType, type Verdict, judgeKey, refusal } from '@keys/domain';
import { type CommandDb, findKeyByHash } from '@keys/key-service';
import { hashKey, parseKey } from '@keys/key-material';

/**
 * Verifies billing keys against the command side's key_lookup (same database, same transaction as the
 * events), using the same pure verdict as the verifier.
 */
export class LocalKeyVerifier implements KeyVerifier {
  constructor(private readonly db: CommandDb) {}

  async verify(key: string, scope: KeyType): Promise<Verdict> {
    const parsed = parseKey(key);
    if (!parsed.ok) return refusal('MALFORMED');
    const row = await findKeyByHash(this.db, hashKey(parsed.key));
    return judgeKey(
      row && {
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
      },
      scope,
      Date.now(),
    );
  }
}
