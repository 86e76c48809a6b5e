import { readCoreConfig } from '@keys/platform';
import { type Output, parseOptions, requiredString } from '../cli';
import { openKeyStore } from '../key-store.session';
import { operatorContext } from '../operator-context';
import { WritePropagation, reportPropagation } from '../propagation';

/** Bootstraps an account and its first billing key; the only time that key is shown. */
export async function createAccount(args: string[], out: Output): Promise<number> {
  const values = parseOptions(args, { name: { type: 'string' } });
  const name = requiredString(values, 'name');
  const store = await openKeyStore();
  const propagation = new WritePropagation(readCoreConfig());
  try {
    const created = await store.keys.createAccount(name, operatorContext());
    const propagated = await propagation.confirm(created.position);
    const billingKey = { id: created.billingKey.state.keyId, key: created.billingKey.key, prefix: created.billingKey.state.prefix };
    out.result(
      { accountId: created.accountId, billingKey, propagation: propagated.outcome },
      `account ${created.accountId} created\nbilling key ${billingKey.id}: ${billingKey.key}\n(shown once; store it now)`,
    );
    reportPropagation(out, propagated);
    return 0;
  } finally {
    await propagation.close();
    await store.close();
  }
}
