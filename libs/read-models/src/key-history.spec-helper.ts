import type { KeyServiceSession, RequestContext } from '@keys/key-service';

/**
 * Writes `n` proxy keys through the key service, each created and renamed (and deactivated with `deactivate`):
 * histories in which later events fold onto rows that earlier ones wrote.
 */
export async function writeKeyHistories(store: KeyServiceSession, accountId: number, by: RequestContext, n: number, options: { deactivate?: boolean } = {}): Promise<void> {
  for (let i = 0; i < n; i++) {
    const key = await store.keys.createKey({ accountId, keyType: 'proxy', name: `k${i}`, expiresAt: null }, by);
    const keyId = key.state.keyId;
    await store.keys.changeKey(keyId, null, (_s, now) => [{ type: 'RenameKey', keyId, name: `k${i}'`, now }], by);
    if (options.deactivate) await store.keys.changeKey(keyId, null, (_s, now) => [{ type: 'DeactivateKey', keyId, now }], by);
  }
}
