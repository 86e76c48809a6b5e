import type { KeyType } from './verdict';

// The public event contract of docs/events.md, copied from libs/domain (contract-copies.spec.ts keeps them
// the same) for services that subscribe to `<prefix>.events.>`.

export interface AccountCreated {
  type: 'AccountCreated';
  data: { accountId: number; name: string };
}
export interface KeyCreated {
  type: 'KeyCreated';
  data: {
    keyId: number;
    accountId: number;
    keyType: KeyType;
    name: string;
    /** The key's first 8 characters. */
    prefix: string;
    /** SHA-256 hex of the full key; the key itself never appears in an event. */
    hash: string;
    expiresAt: string | null;
  };
}
export interface KeyRenamed {
  type: 'KeyRenamed';
  data: { keyId: number; name: string };
}
export interface KeyDeactivated {
  type: 'KeyDeactivated';
  data: { keyId: number };
}
export interface KeyReactivated {
  type: 'KeyReactivated';
  data: { keyId: number };
}
export interface KeyExpirySet {
  type: 'KeyExpirySet';
  /** `null` removes the expiry. */
  data: { keyId: number; expiresAt: string | null };
}
export interface KeyExpired {
  type: 'KeyExpired';
  /** The instant the key logically expired (its expiresAt). */
  data: { keyId: number; expiredAt: string };
}
export interface KeyDeleted {
  type: 'KeyDeleted';
  data: { keyId: number };
}
export interface KeyRevoked {
  type: 'KeyRevoked';
  /**
   * Terminal: the key never authenticates again. `reason` is `leaked` (reported by secret scanning, `foundAt` the
   * reported URL) or `operator` (`note` is the operator's text); use it to tell the key's owner.
   */
  data: { keyId: number; reason: 'leaked' | 'operator'; foundAt: string | null; note: string | null; revokedAt: string };
}

export type KeyEvent = KeyCreated | KeyRenamed | KeyDeactivated | KeyReactivated | KeyExpirySet | KeyExpired | KeyDeleted | KeyRevoked;
export type DomainEvent = AccountCreated | KeyEvent;
export type DomainEventType = DomainEvent['type'];

export const DOMAIN_EVENT_TYPES: readonly DomainEventType[] = [
  'AccountCreated',
  'KeyCreated',
  'KeyRenamed',
  'KeyDeactivated',
  'KeyReactivated',
  'KeyExpirySet',
  'KeyExpired',
  'KeyDeleted',
  'KeyRevoked',
];

/** Who caused an event. Never carries key material. */
export type Actor =
  | { type: 'billing_key'; keyId: number; accountId: number }
  | { type: 'operator'; name: string }
  | { type: 'system'; name: string };

export interface EventMetadata {
  actor: Actor;
  ipAddress: string | null;
  userAgent: string | null;
  correlationId: string;
}

/** The envelope as published on `<prefix>.events.<accountId>.<type>`; narrow on `type` to get its `data`. */
export type EventEnvelope<E extends DomainEvent = DomainEvent> = E extends DomainEvent
  ? {
      eventId: string;
      type: E['type'];
      /** Global, gap-free order in the store. */
      position: number;
      streamId: string;
      streamVersion: number;
      occurredAt: string;
      data: E['data'];
      metadata: EventMetadata;
    }
  : never;

/** The default `KEYS_SUBJECT_PREFIX`. */
export const DEFAULT_SUBJECT_PREFIX = 'keys.v1';

/** `<prefix>.verify`: where verify requests go. */
export const verifySubject = (prefix: string = DEFAULT_SUBJECT_PREFIX): string => `${prefix}.verify`;

/**
 * `<prefix>.events.<accountId>.<type>`; `'*'` for any account or type, `'>'` (as the type) for everything below.
 * E.g. `keyEventSubject('keys.v1', '*', 'KeyDeleted')` hears every deletion.
 */
export const keyEventSubject = (prefix: string, accountId: number | '*', type: DomainEventType | '*' | '>'): string =>
  `${prefix}.events.${accountId}.${type}`;

/** `<prefix>.events.>`: every event of every account. */
export const allKeyEventsSubject = (prefix: string = DEFAULT_SUBJECT_PREFIX): string => `${prefix}.events.>`;

const TYPES = new Set<string>(DOMAIN_EVENT_TYPES);

/**
 * Parses one message of the events subjects. Throws on anything that is not an envelope of a known type
 * (a newer type this version does not know included), so a subscriber can skip it.
 */
export function decodeEvent(data: Uint8Array | string): EventEnvelope {
  const value = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data)) as Partial<Record<string, unknown>> | null;
  if (!value || typeof value !== 'object' || typeof value.position !== 'number' || typeof value.type !== 'string' || !TYPES.has(value.type)) {
    throw new Error('message is not a key event envelope of a known type');
  }
  if (!value.data || typeof value.data !== 'object') throw new Error('key event envelope without data');
  return value as unknown as EventEnvelope;
}
