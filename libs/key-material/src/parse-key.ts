import { base62Digit } from './base62';
import { crc32Ascii, decodeChecksumAt } from './checksum';
import { KEY_LENGTH, KEY_PREFIXES, KEY_TYPE_PREFIX_LENGTH, keyPrefix, type KeyType } from './key-format';

export type ParseKeyFailure = 'not_a_string' | 'wrong_prefix' | 'wrong_length' | 'bad_alphabet' | 'bad_checksum';

export type ParsedKey =
  | { ok: true; type: KeyType; key: string; prefix: string }
  | { ok: false; reason: ParseKeyFailure };

const CHECKED_LENGTH = KEY_LENGTH - 6;

/**
 * Offline validation of a presented key: runs on every verification request, so it allocates nothing on the
 * failure paths, never throws, and looks at no more than KEY_LENGTH characters whatever the input size.
 * Checks run in the order of the reasons: type prefix, then length, then alphabet, then checksum.
 */
export function parseKey(input: unknown): ParsedKey {
  if (typeof input !== 'string') return { ok: false, reason: 'not_a_string' };
  let type: KeyType;
  if (input.startsWith(KEY_PREFIXES.proxy)) type = 'proxy';
  else if (input.startsWith(KEY_PREFIXES.billing)) type = 'billing';
  else return { ok: false, reason: 'wrong_prefix' };
  if (input.length !== KEY_LENGTH) return { ok: false, reason: 'wrong_length' };
  for (let i = KEY_TYPE_PREFIX_LENGTH; i < KEY_LENGTH; i++) {
    if (base62Digit(input.charCodeAt(i)) < 0) return { ok: false, reason: 'bad_alphabet' };
  }
  if (decodeChecksumAt(input, CHECKED_LENGTH) !== crc32Ascii(input, 0, CHECKED_LENGTH)) {
    return { ok: false, reason: 'bad_checksum' };
  }
  return { ok: true, type, key: input, prefix: keyPrefix(input) };
}
