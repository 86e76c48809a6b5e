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
