import { type ExistingKeyState, isExpiredAt } from '@keys/domain';

/** The key object of docs/api.md. `active` is false once a key is deactivated, expired, revoked or deleted. */
export interface KeyView {
  id: number;
  name: string;
  prefix: string;
  active: boolean;
  createdAt: string | null;
  expiresAt: string | null;
  /** Null unless revoked; a revoked key stays visible to its owner, inactive. */
  revokedAt: string | null;
  revokedReason: 'leaked' | 'operator' | null;
  revokedFoundAt: string | null;
  /** Usage telemetry from key_usage; null for a key just issued (not used yet). */
  lastUsedAt: string | null;
}

export function toKeyView(state: ExistingKeyState, now: string, lastUsedAt: string | null = null): KeyView {
  return {
    id: state.keyId,
    name: state.name,
    prefix: state.prefix,
    active: state.active && !state.deleted && !isExpiredAt(state, now),
    createdAt: state.createdAt,
    expiresAt: state.expiresAt,
    revokedAt: state.revocation?.revokedAt ?? null,
    revokedReason: state.revocation?.reason ?? null,
    revokedFoundAt: state.revocation?.foundAt ?? null,
    lastUsedAt,
  };
}

/** Header naming the position of the caller's write, so a following read can wait for it. */
export const POSITION_HEADER = 'X-Keys-Position';
