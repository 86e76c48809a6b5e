import { readCoreConfig } from '@keys/platform';
import { CliError, type Output, UsageError, parseOptions, positiveInt, requiredString } from '../cli';
import { openKeyStore } from '../key-store.session';
import { operatorContext } from '../operator-context';
import { WritePropagation, reportPropagation } from '../propagation';

export async function createKey(args: string[], out: Output): Promise<number> {
  const values = parseOptions(args, {
    account: { type: 'string' },
    type: { type: 'string' },
    name: { type: 'string' },
    'expires-at': { type: 'string' },
  });
  const accountId = positiveInt(values, 'account');
  const keyType = requiredString(values, 'type');
  if (keyType !== 'proxy' && keyType !== 'billing') throw new UsageError('--type must be proxy or billing');
  const name = requiredString(values, 'name');
  const rawExpiry = values['expires-at'];
  let expiresAt: string | null = null;
  if (typeof rawExpiry === 'string') {
    if (Number.isNaN(Date.parse(rawExpiry))) throw new UsageError('--expires-at must be an ISO-8601 date-time');
    expiresAt = new Date(rawExpiry).toISOString();
  }
  const store = await openKeyStore();
  const propagation = new WritePropagation(readCoreConfig());
  try {
    const exists = await store.db.selectFrom('events').select('position').where('stream_id', '=', `account-${accountId}`).executeTakeFirst();
    if (!exists) throw new CliError('account_not_found', `No account ${accountId}.`);
    const issued = await store.keys.createKey({ accountId, keyType, name, expiresAt }, operatorContext());
    // A creation always appends; a null position would mean nothing was written, so nothing to wait for.
    const propagated = issued.position === null ? { outcome: 'confirmed' as const } : await propagation.confirm(issued.position);
    const s = issued.state;
    out.result(
      { id: s.keyId, key: issued.key, name: s.name, prefix: s.prefix, type: s.keyType, accountId: s.accountId, createdAt: s.createdAt, expiresAt: s.expiresAt, propagation: propagated.outcome },
      `${s.keyType} key ${s.keyId} created for account ${s.accountId}: ${issued.key}\n(shown once; store it now)`,
    );
    reportPropagation(out, propagated);
    return 0;
  } finally {
    await propagation.close();
    await store.close();
  }
}
