// The key format of docs/architecture.md: `ms-`|`mk-`, 43 base62 characters of randomness, 6 base62 checksum characters.

import { CHECKSUM_LENGTH } from './checksum';

export type KeyType = 'proxy' | 'billing';

export const KEY_PREFIXES = { proxy: 'ms-', billing: 'mk-' } as const satisfies Record<KeyType, string>;

/** 32 random bytes need 43 base62 digits (62^43 > 2^256). */
export const KEY_BODY_LENGTH = 43;
export const KEY_TYPE_PREFIX_LENGTH = 3;
export const KEY_LENGTH = KEY_TYPE_PREFIX_LENGTH + KEY_BODY_LENGTH + CHECKSUM_LENGTH;
/** The displayed, stored prefix: the first 8 characters, e.g. `ms-Ab12x`. */
export const KEY_DISPLAY_PREFIX_LENGTH = 8;

/** The first 8 characters of a key; safe to store and show. */
export function keyPrefix(key: string): string {
  return key.slice(0, KEY_DISPLAY_PREFIX_LENGTH);
}

/** The key type a string's leading `ms-`/`mk-` names (works on a full key or a display prefix), else null. */
export function keyTypeOf(prefix: string): KeyType | null {
  if (typeof prefix !== 'string') return null;
  if (prefix.startsWith(KEY_PREFIXES.proxy)) return 'proxy';
  if (prefix.startsWith(KEY_PREFIXES.billing)) return 'billing';
  return null;
}
