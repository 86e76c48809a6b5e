import { ValidateBy } from 'class-validator';
import { ApiError } from '@keys/platform';

// RFC 3339 section 5.6 date-time, nothing else of ISO 8601 (no week or ordinal dates, no basic format, no date
// alone, no missing offset). "t" and "z" may be lowercase, as RFC 3339 allows. Refused although the RFC's grammar
// has them: a leap second (:60, JavaScript dates have none), fractions beyond 9 digits (kept to milliseconds anyway)
// and instants from year 10000 on, which neither ISO strings of 4-digit years nor our columns hold.
const RFC_3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const YEAR_10000 = Date.UTC(10000, 0, 1);

/** The instant `value` denotes as an ISO string in UTC (milliseconds), or null when it is no RFC 3339 date-time. */
export function parseRfc3339(value: string): string | null {
  const m = RFC_3339.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const [offsetHours, offsetMinutes] = [Number(m[9] ?? 0), Number(m[10] ?? 0)];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return null;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0–99 as 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3)));
  const sign = m[8] === '-' ? -1 : 1;
  const instant = date.getTime() - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
  if (instant >= YEAR_10000) return null;
  return new Date(instant).toISOString();
}

function daysIn(year: number, month: number): number {
  if (month !== 2) return [31, 0, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/** class-validator check for an RFC 3339 date-time string; `field` names the property in the message. */
export function IsRfc3339DateTime(field: string, orNull = false): PropertyDecorator {
  return ValidateBy({
    name: 'isRfc3339DateTime',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && parseRfc3339(value) !== null,
      defaultMessage: () => `${field} must be an RFC 3339 date-time such as 2030-01-01T00:00:00Z${orNull ? ', or null' : ''}.`,
    },
  });
}

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
  const instant = parseRfc3339(value);
  // The DTOs check this already; a body that reached here some other way must still not become a 500.
  if (instant === null) throw ApiError.validation('expires_at must be an RFC 3339 date-time such as 2030-01-01T00:00:00Z.', snake !== undefined ? 'expires_at' : 'expiresAt');
  return instant;
}
