// Refusals of the domain. The edge maps each code to an HTTP error body (docs/api.md).
// Messages are sentences for people and never contain key material or hashes.

export type DomainErrorCode =
  | 'key_not_found'
  | 'key_exists'
  | 'key_deleted'
  | 'key_expired'
  | 'key_revoked'
  | 'expiry_not_in_future'
  | 'expiry_not_reached'
  | 'invalid_name'
  | 'account_exists'
  | 'last_billing_key';

export const DOMAIN_ERROR_CODES: readonly DomainErrorCode[] = [
  'key_not_found',
  'key_exists',
  'key_deleted',
  'key_expired',
  'key_revoked',
  'expiry_not_in_future',
  'expiry_not_reached',
  'invalid_name',
  'account_exists',
  'last_billing_key',
];

export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isDomainError(value: unknown): value is DomainError {
  return value instanceof DomainError;
}
