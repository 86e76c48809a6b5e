import { ApiError } from '@keys/platform';

/**
 * `expires_at` and `expiresAt` are both accepted (ModelSwitch uses the first). Returns the normalized
 * ISO instant, null to clear, or undefined when neither was sent.
 */
export function pickExpiry(body: { expires_at?: string | null; expiresAt?: string | null }): string | null | undefined {
  const snake = body.expires_at;
  const camel = body.expiresAt;
  if (snake !== undefined && camel !== undefined && snake !== camel) {
    throw ApiError.validation('Send expires_at or expiresAt, not both with different values.', 'expires_at');
  }
  const value = snake !== undefined ? snake : camel;
  if (value === undefined || value === null) return value;
  return new Date(value).toISOString();
}
