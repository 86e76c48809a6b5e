export { generateKey, type GeneratedKey } from './generate-key';
export { parseKey, type ParsedKey, type ParseKeyFailure } from './parse-key';
export { hashKey, constantTimeEqual } from './hash-key';
export {
  KEY_LENGTH,
  KEY_PREFIXES,
  KEY_BODY_LENGTH,
  KEY_DISPLAY_PREFIX_LENGTH,
  keyPrefix,
  keyTypeOf,
  type KeyType,
} from './key-format';
