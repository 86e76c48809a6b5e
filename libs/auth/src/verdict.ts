// The verify contract of docs/verification.md, copied from libs/domain so the package stands alone
// (contract-copies.spec.ts keeps the two the same).

export type KeyType = 'proxy' | 'billing';

export type VerifyCode = 'VALID' | 'MALFORMED' | 'NOT_FOUND' | 'DELETED' | 'REVOKED' | 'EXPIRED' | 'INACTIVE' | 'WRONG_TYPE' | 'BAD_REQUEST';

/** The HTTP status each verify code stands for. */
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

/** What a valid verdict says about its key (never the key itself). */
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

/** A verdict that refuses the key. */
export type Refusal = Exclude<Verdict, { valid: true }>;

/** The verify request body: exactly these two fields. */
export interface VerifyRequest {
  key: string;
  scope: KeyType;
}

const CODES = new Set(Object.keys(VERIFY_STATUS));

/** The value as a verdict, or null when it has another shape (a caller treats that as no answer). */
export function asVerdict(value: unknown): Verdict | null {
  const v = value as Partial<Record<string, unknown>> | null;
  if (!v || typeof v !== 'object' || typeof v.code !== 'string' || !CODES.has(v.code) || typeof v.status !== 'number') return null;
  if (v.valid === true && v.code === 'VALID' && v.key && typeof v.key === 'object') return value as Verdict;
  if (v.valid === false && v.code !== 'VALID') return value as Verdict;
  return null;
}
