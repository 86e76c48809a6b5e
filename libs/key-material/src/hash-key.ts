import { createHash, timingSafeEqual } from 'node:crypto';

/** SHA-256 of the whole key, lowercase hex (64 characters). This, never the key, is what gets stored. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Compares two strings in time independent of where they differ. Both sides are hashed first so that inputs
 * of different lengths are compared as equal-length digests (timingSafeEqual throws on a length mismatch).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  const digestA = createHash('sha256').update(a, 'utf8').digest();
  const digestB = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(digestA, digestB);
}
