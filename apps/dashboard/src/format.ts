import type { ApiKey } from './api.ts';

export type KeyStatus = 'active' | 'inactive' | 'expired' | 'revoked';

/** revoked if revokedAt, expired if expiresAt <= now, inactive if not active, else active. */
export function statusOf(key: ApiKey, now: number = Date.now()): KeyStatus {
  if (key.revokedAt) return 'revoked';
  if (key.expiresAt && Date.parse(key.expiresAt) <= now) return 'expired';
  if (!key.active) return 'inactive';
  return 'active';
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : dateTime.format(ms);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** An instant as the value of an <input type="datetime-local">, in the user's time zone. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value (the user's time zone) as the UTC instant the API takes, `YYYY-MM-DDTHH:MM:SS.sssZ`. */
export function fromLocalInput(value: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match;
  const local = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0));
  return Number.isNaN(local.getTime()) ? null : local.toISOString();
}

const ACTIONS: Record<string, string> = {
  key_created: 'Key created',
  key_renamed: 'Key renamed',
  key_deactivated: 'Key deactivated',
  key_reactivated: 'Key reactivated',
  key_expiry_set: 'Expiry set',
  key_expired: 'Key expired',
  key_deleted: 'Key deleted',
  key_revoked: 'Key revoked',
};

export function actionLabel(action: string): string {
  return ACTIONS[action] ?? action.replace(/_/g, ' ');
}

/** Who acted, from a security log entry's `details.actor`. */
export function actorLabel(actor: Record<string, unknown> | undefined): string {
  if (!actor || typeof actor !== 'object') return '';
  switch (actor.type) {
    case 'billing_key':
      return `billing key #${String(actor.keyId)}`;
    case 'operator':
      return `operator ${String(actor.name)}`;
    case 'system':
      return `system (${String(actor.name)})`;
    default:
      return String(actor.type ?? '');
  }
}
