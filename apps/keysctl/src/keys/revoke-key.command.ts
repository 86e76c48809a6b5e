import { readCoreConfig } from '@keys/platform';
import { revocationNoteProblem } from '@keys/domain';
import { type Output, UsageError, parseOptions, positiveInt, requiredString } from '../cli';
import { openKeyStore } from '../key-store.session';
import { operatorContext } from '../operator-context';
import { WritePropagation, reportPropagation } from '../propagation';

/**
 * Revokes a key of any account for good (event reason `operator`, the operator's text as its note). A key
 * already revoked is left as it was and reported so; a deleted key is refused (key_deleted, exit 1).
 */
export async function revokeKey(args: string[], out: Output): Promise<number> {
  const values = parseOptions(args, { 'key-id': { type: 'string' }, reason: { type: 'string' } });
  const keyId = positiveInt(values, 'key-id');
  const reason = requiredString(values, 'reason');
  const problem = revocationNoteProblem(reason);
  if (problem) throw new UsageError(`--reason: ${problem}`);
  const note = reason.normalize('NFC').trim();
  const store = await openKeyStore();
  const propagation = new WritePropagation(readCoreConfig());
  try {
    const change = await store.keys.changeKey(keyId, null, (_state, now) => [{ type: 'RevokeKey', keyId, reason: 'operator', foundAt: null, note, now }], operatorContext());
    const propagated = change.position === null ? { outcome: 'confirmed' as const } : await propagation.confirm(change.position);
    const s = change.state;
    const revocation = s.revocation;
    const already = change.position === null;
    out.result(
      {
        id: s.keyId,
        accountId: s.accountId,
        type: s.keyType,
        prefix: s.prefix,
        revokedAt: revocation?.revokedAt ?? null,
        revokedReason: revocation?.reason ?? null,
        alreadyRevoked: already,
        propagation: propagated.outcome,
      },
      already
        ? `${s.keyType} key ${s.keyId} (${s.prefix}) was already revoked at ${revocation?.revokedAt} (${revocation?.reason}); nothing changed`
        : `${s.keyType} key ${s.keyId} (${s.prefix}) of account ${s.accountId} revoked`,
    );
    reportPropagation(out, propagated);
    return 0;
  } finally {
    await propagation.close();
    await store.close();
  }
}
