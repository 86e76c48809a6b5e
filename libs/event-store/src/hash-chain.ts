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
  // Loops and string concatenation rather than map/filter/join: this runs for every appended event (and every
  // event verifyChain checks), and the intermediate arrays were most of its cost.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += value[i] === undefined ? 'null' : canonicalJson(value[i]);
    }
    return `${out}]`;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return canonicalJson((value as { toJSON(): unknown }).toJSON());
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(key)}:${canonicalJson(member)}`;
  }
  return `${out}}`;
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
