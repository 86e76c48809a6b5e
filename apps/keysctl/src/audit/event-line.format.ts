import { type Actor, type EventEnvelope, assertNever } from '@keys/domain';

/** `billing_key 3 (account 1)`, `operator alice`, `system expiry-sweep`. */
export function formatActor(actor: Actor): string {
  switch (actor.type) {
    case 'billing_key':
      return `billing_key ${actor.keyId} (account ${actor.accountId})`;
    case 'operator':
      return `operator ${actor.name}`;
    case 'system':
      return `system ${actor.name}`;
    default:
      return assertNever(actor);
  }
}

/**
 * The event's data for people: `name="Production" expiresAt=null`. The key id is in the header and the
 * key hash is left out: it identifies the key material, and an auditor reading a screen does not need it.
 */
export function formatEventData(envelope: EventEnvelope): string {
  return Object.entries(envelope.data as Record<string, unknown>)
    .filter(([field]) => field !== 'hash' && field !== 'keyId')
    .map(([field, value]) => `${field}=${JSON.stringify(value)}`)
    .join(' ');
}
