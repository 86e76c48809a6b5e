import { randomBytes } from 'node:crypto';
import { encodeBytesBase62 } from './base62';
import { checksumOf } from './checksum';
import { hashKey } from './hash-key';
import { KEY_BODY_LENGTH, KEY_PREFIXES, keyPrefix, type KeyType } from './key-format';

export interface GeneratedKey {
  /** The full key: returned to the customer once, then only its hash is kept. */
  key: string;
  /** First 8 characters, e.g. `ms-Ab12x`. */
  prefix: string;
  /** SHA-256 hex of the full key. */
  hash: string;
}

export function generateKey(type: KeyType): GeneratedKey {
  const typePrefix = KEY_PREFIXES[type];
  if (typePrefix === undefined) throw new TypeError(`unknown key type: ${String(type)}`);
  const head = typePrefix + encodeBytesBase62(randomBytes(32), KEY_BODY_LENGTH);
  const key = head + checksumOf(head);
  return { key, prefix: keyPrefix(key), hash: hashKey(key) };
}
