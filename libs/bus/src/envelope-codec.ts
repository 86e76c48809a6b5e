import type { EventEnvelope } from '@keys/domain';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const encodeJson = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));

export function decodeJson(data: Uint8Array): unknown {
  return JSON.parse(decoder.decode(data));
}

export const encodeEnvelope = (envelope: EventEnvelope): Uint8Array => encodeJson(envelope);

export function decodeEnvelope(data: Uint8Array): EventEnvelope {
  const value = decodeJson(data) as EventEnvelope;
  if (!value || typeof value !== 'object' || typeof value.position !== 'number' || typeof value.type !== 'string') {
    throw new Error('message is not a key event envelope');
  }
  return value;
}

/**
 * The position a message on the events subjects claims, or null when it claims none. Consumers in this
 * system take event content only from the event store: a message on the bus is a doorbell ("there is news
 * up to here"), so a forged or replayed one can at most cause a read of the store, never change a verdict
 * or a read model. This reads just enough of it to know how far to read.
 */
export function claimedPosition(data: Uint8Array): number | null {
  let value: unknown;
  try {
    value = decodeJson(data);
  } catch {
    return null;
  }
  const position = (value as { position?: unknown } | null)?.position;
  return typeof position === 'number' && Number.isSafeInteger(position) && position > 0 ? position : null;
}
