// The public event contract (docs/events.md). Events are facts in the past tense; a changed shape gets an
// upcaster and a new version, never a rewrite of stored events.

export type KeyType = 'proxy' | 'billing';

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
  data: { keyId: number; expiresAt: string | null };
}
export interface KeyExpired {
  type: 'KeyExpired';
  data: { keyId: number; expiredAt: string };
}
export interface KeyDeleted {
  type: 'KeyDeleted';
  data: { keyId: number };
}
/** Why a key was revoked: found leaked (secret scanning), or an operator's decision (keysctl). */
export type RevocationReason = 'leaked' | 'operator';
/**
 * Terminal for use (the key never authenticates again) but the key stays visible to its owner. `foundAt` is
 * where a leak was reported (the scanner's URL), `note` an operator's text; revokedAt is the decision's `now`.
 */
export interface KeyRevoked {
  type: 'KeyRevoked';
  data: { keyId: number; reason: RevocationReason; foundAt: string | null; note: string | null; revokedAt: string };
}

export type KeyEvent =
  | KeyCreated
  | KeyRenamed
  | KeyDeactivated
  | KeyReactivated
  | KeyExpirySet
  | KeyExpired
  | KeyDeleted
  | KeyRevoked;

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

/** The envelope, identical in Postgres, on JetStream and in replays. */
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

export const keyStreamId = (keyId: number): string => `key-${keyId}`;
export const accountStreamId = (accountId: number): string => `account-${accountId}`;

/** Account an event belongs to, when the event alone tells (KeyCreated, AccountCreated). */
export function accountIdOf(event: DomainEvent): number | null {
  switch (event.type) {
    case 'AccountCreated':
    case 'KeyCreated':
      return event.data.accountId;
    case 'KeyRenamed':
    case 'KeyDeactivated':
    case 'KeyReactivated':
    case 'KeyExpirySet':
    case 'KeyExpired':
    case 'KeyDeleted':
    case 'KeyRevoked':
      return null;
    default:
      return assertNever(event);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
