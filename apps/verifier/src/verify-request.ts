import { type KeyType, type Verdict, type VerifyCode, refusal } from '@keys/domain';

/** A request bigger than this is refused unread: a real one is about 80 bytes. */
export const MAX_REQUEST_BYTES = 4096;

export interface VerifyRequest {
  key: string;
  scope: KeyType;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * `{"key": string, "scope": "proxy"|"billing"}` and nothing else, or null (→ BAD_REQUEST). Never throws,
 * whatever the bytes: empty, not UTF-8, not JSON, huge, or JSON of the wrong shape.
 */
export function parseVerifyRequest(data: Uint8Array | null | undefined): VerifyRequest | null {
  if (!data || data.length === 0 || data.length > MAX_REQUEST_BYTES) return null;
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { key, scope } = value as Record<string, unknown>;
  if (typeof key !== 'string' || (scope !== 'proxy' && scope !== 'billing')) return null;
  // Strict: an unknown field is more likely a client bug (e.g. "type" for "scope") than something to ignore.
  let fields = 0;
  for (const name in value) {
    if (Object.prototype.hasOwnProperty.call(value, name)) fields++;
  }
  if (fields !== 2) return null;
  return { key, scope };
}

// Refusals never change, so their bytes are built once.
const REFUSAL_BYTES = new Map<VerifyCode, Uint8Array>();

export function encodeVerdict(verdict: Verdict): Uint8Array {
  if (verdict.valid) return encoder.encode(JSON.stringify(verdict));
  let bytes = REFUSAL_BYTES.get(verdict.code);
  if (!bytes) {
    bytes = encoder.encode(JSON.stringify(refusal(verdict.code)));
    REFUSAL_BYTES.set(verdict.code, bytes);
  }
  return bytes;
}
