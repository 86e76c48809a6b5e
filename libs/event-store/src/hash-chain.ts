import { hash } from 'node:crypto';
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
 * sha256hex(prevHash + '\n' + canonicalJson(content of the envelope + its account)) — docs/audit.md. The
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
  return hash('sha256', `${prevHash}\n${content}`, 'hex');
}

/** computeEventHash's content around the position, which is known only once the append lock is held. */
export interface EventHashTemplate {
  before: string;
  after: string;
}

/**
 * The canonical JSON of everything computeEventHash covers except the position: the appender prepares it before it
 * takes the append lock, so under the lock only the position is put in and hashed (hashFromTemplate). Written out
 * rather than sorted at run time (it runs for every append): canonicalJson's key order, with every member present
 * as in an envelope; hash-chain.spec checks it against computeEventHash.
 */
export function eventHashTemplate(envelope: Omit<EventEnvelope, 'position'> & { accountId?: number | null }): EventHashTemplate {
  return {
    before: `{"accountId":${canonicalJson(envelope.accountId ?? null)},"data":${canonicalJson(envelope.data)},"eventId":${canonicalJson(envelope.eventId)},"metadata":${canonicalJson(envelope.metadata)},"occurredAt":${canonicalJson(envelope.occurredAt)},"position":`,
    after: `,"streamId":${canonicalJson(envelope.streamId)},"streamVersion":${canonicalJson(envelope.streamVersion)},"type":${canonicalJson(envelope.type)}}`,
  };
}

/**
 * Equals computeEventHash(prevHash, envelope) for the envelope the template was made from, at `position`. Runs under
 * the append lock for every event: one-shot `crypto.hash`, no Hash object.
 */
export function hashFromTemplate(prevHash: string, template: EventHashTemplate, position: number): string {
  return hash('sha256', `${prevHash}\n${template.before}${canonicalJson(position)}${template.after}`, 'hex');
}
