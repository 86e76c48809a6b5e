// Pure projection of the security log: one entry per key event, describing who did what to which key.

import { type Actor, type RevocationReason, assertNever } from '@keys/domain';
import { type KeyEventEnvelope, type KeyRow, evolveKeyRow } from './key-row.projection';

export type SecurityAction =
  | 'key_created'
  | 'key_renamed'
  | 'key_deactivated'
  | 'key_reactivated'
  | 'key_expiry_set'
  | 'key_expired'
  | 'key_deleted'
  | 'key_revoked';

export interface SecurityLogDetails {
  keyId: number;
  keyType: KeyRow['keyType'];
  name: string;
  prefix: string;
  actor: Actor;
  /** key_revoked only: why (`leaked` or `operator`) and, for a leak, where it was reported. */
  reason?: RevocationReason;
  foundAt?: string | null;
}

export interface SecurityLogEntry {
  /** The event's position: unique, monotone and the same in every rebuild, so it orders and pages the log. */
  id: number;
  accountId: number;
  action: SecurityAction;
  ipAddress: string | null;
  createdAt: string;
  details: SecurityLogDetails;
}

export function securityActionOf(event: KeyEventEnvelope): SecurityAction {
  switch (event.type) {
    case 'KeyCreated':
      return 'key_created';
    case 'KeyRenamed':
      return 'key_renamed';
    case 'KeyDeactivated':
      return 'key_deactivated';
    case 'KeyReactivated':
      return 'key_reactivated';
    case 'KeyExpirySet':
      return 'key_expiry_set';
    case 'KeyExpired':
      return 'key_expired';
    case 'KeyDeleted':
      return 'key_deleted';
    case 'KeyRevoked':
      return 'key_revoked';
    default:
      return assertNever(event);
  }
}

/**
 * The entry for `event`, given the key's row after the event was applied (events other than KeyCreated
 * carry only the key id; name, prefix and type come from the row, so a rename logs the new name).
 */
export function securityLogEntry(event: KeyEventEnvelope, rowAfter: KeyRow): SecurityLogEntry {
  return {
    id: event.position,
    accountId: rowAfter.accountId,
    action: securityActionOf(event),
    ipAddress: event.metadata.ipAddress ?? null,
    createdAt: event.occurredAt,
    details: {
      keyId: rowAfter.id,
      keyType: rowAfter.keyType,
      name: rowAfter.name,
      prefix: rowAfter.prefix,
      actor: event.metadata.actor,
      ...(event.type === 'KeyRevoked' && { reason: event.data.reason, foundAt: event.data.foundAt }),
    },
  };
}

/**
 * Both projections for one event: the row after it and the log entry it adds, or null when the event
 * changes nothing (already applied, or for a key never created).
 */
export function projectKeyEvent(
  row: KeyRow | undefined,
  event: KeyEventEnvelope,
): { row: KeyRow; entry: SecurityLogEntry } | null {
  const next = evolveKeyRow(row, event);
  if (next === undefined || next === row) return null;
  return { row: next, entry: securityLogEntry(event, next) };
}
