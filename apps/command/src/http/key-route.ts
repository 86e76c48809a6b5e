import type { KeyType } from '@keys/domain';

/** /api/keys manages proxy keys, /api/billing-keys billing keys; every route shape is shared by both. */
export function keyTypeOfPath(path: string): KeyType {
  return path.startsWith('/api/billing-keys') ? 'billing' : 'proxy';
}
