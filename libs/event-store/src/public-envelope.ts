import type { EventEnvelope } from '@keys/domain';
import type { StoredEvent } from './read';

/**
 * The public envelope (docs/events.md), identical on JetStream and in replays: the store's bookkeeping
 * (account column, hash-chain links) stays in the store. Relay and replay both use this, so a subscriber
 * cannot tell a replayed event from a relayed one.
 */
export function toPublicEnvelope(stored: StoredEvent): EventEnvelope {
  const { eventId, type, position, streamId, streamVersion, occurredAt, data, metadata } = stored;
  return { eventId, type, position, streamId, streamVersion, occurredAt, data, metadata } as EventEnvelope;
}
