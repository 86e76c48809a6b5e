import type { KeyType } from './events';

// The verification verdict of docs/verification.md, judged purely from what is known about a key and the time.

export type VerifyCode = 'VALID' | 'MALFORMED' | 'NOT_FOUND' | 'DELETED' | 'REVOKED' | 'EXPIRED' | 'INACTIVE' | 'WRONG_TYPE' | 'BAD_REQUEST';

export const VERIFY_STATUS: Readonly<Record<VerifyCode, number>> = {
  VALID: 200,
  MALFORMED: 401,
  NOT_FOUND: 401,
  DELETED: 401,
  REVOKED: 401,
  EXPIRED: 401,
  INACTIVE: 403,
  WRONG_TYPE: 403,
  BAD_REQUEST: 400,
};

/** What a verifier knows of one key. */
export interface VerifiableKey {
  keyId: number;
  accountId: number;
  keyType: KeyType;
  name: string;
  prefix: string;
  active: boolean;
  expiresAt: string | null;
  /** Epoch ms of expiresAt, precomputed so the hot path does not parse dates. */
  expiresAtMs: number | null;
  expired: boolean;
  deleted: boolean;
  revoked: boolean;
}

export interface VerifiedKeyIdentity {
  id: number;
  accountId: number;
  type: KeyType;
  name: string;
  prefix: string;
  expiresAt: string | null;
}

export type Verdict =
  | { valid: true; code: 'VALID'; status: 200; key: VerifiedKeyIdentity }
  | { valid: false; code: Exclude<VerifyCode, 'VALID'>; status: number };

export const refusal = (code: Exclude<VerifyCode, 'VALID'>): Verdict => ({ valid: false, code, status: VERIFY_STATUS[code] });

/**
 * Order matters: a deleted key is gone (401) whatever else is true, a revoked one next (it may be inactive or
 * expired as well, and the owner should learn it was revoked); an expired key is expired even when
 * it was also deactivated; the type is checked last so a foreign-type key that is dead still reads as dead.
 */
export function judgeKey(key: VerifiableKey | undefined, scope: KeyType, nowMs: number): Verdict {
  if (!key) return refusal('NOT_FOUND');
  if (key.deleted) return refusal('DELETED');
  if (key.revoked) return refusal('REVOKED');
  if (key.expired || (key.expiresAtMs !== null && key.expiresAtMs <= nowMs)) return refusal('EXPIRED');
  if (!key.active) return refusal('INACTIVE');
  if (key.keyType !== scope) return refusal('WRONG_TYPE');
  return {
    valid: true,
    code: 'VALID',
    status: 200,
    key: { id: key.keyId, accountId: key.accountId, type: key.keyType, name: key.name, prefix: key.prefix, expiresAt: key.expiresAt },
  };
}
