import { createHash } from 'node:crypto';
import type { EventEnvelope } from '@keys/domain';

/**
 * JSON with object keys sorted recursively (by UTF-16 code units, JS's default sort), no whitespace.
 * jsonb does not keep key order, so the hash must not depend on it. Undefined members are dropped,
 * as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const json = JSON.stringify(value);
    return json === undefined ? 'null' : json;
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return canonicalJson((value as { toJSON(): unknown }).toJSON());
  }
  const entries = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/**
 * sha256hex(prevHash + '\n' + canonicalJson(content of the envelope + its account)) — DESIGN §3.4. The
 * stored account id is covered too: the relay routes events by it, so changing it must break the chain.
 */
export function computeEventHash(prevHash: string, envelope: EventEnvelope & { accountId?: number | null }): string {
  const content = canonicalJson({
    accountId: envelope.accountId ?? null,
    eventId: envelope.eventId,
    type: envelope.type,
    position: envelope.position,
    streamId: envelope.streamId,
    streamVersion: envelope.streamVersion,
    occurredAt: envelope.occurredAt,
    data: envelope.data,
    metadata: envelope.metadata,
  });
  return createHash('sha256').update(`${prevHash}\n${content}`).digest('hex');
}
