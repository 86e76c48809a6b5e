import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from '@asyncapi/parser';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** docs/asyncapi.yaml, the contract every message on NATS is held to. */
export const ASYNCAPI_PATH = join(__dirname, '..', '..', 'docs', 'asyncapi.yaml');

/** One result of checking a message: null when it conforms, else what differs. */
export type ContractProblem = string | null;

export interface AsyncApiContract {
  /** An event as a subscriber receives it: subject, NATS headers and the decoded JSON payload. */
  checkEvent(subject: string, headers: Record<string, string>, payload: unknown): ContractProblem;
  /** A verify request; it must match exactly one request message of the verify operation. */
  checkVerifyRequest(payload: unknown): ContractProblem;
  /** A verify answer; it must match exactly one reply message of the verify operation. */
  checkVerifyAnswer(payload: unknown): ContractProblem;
  /** Names of the messages on the events channel (the event types). */
  eventTypes: string[];
}

interface CompiledMessage {
  name: string;
  payload: ValidateFunction;
  headers: ValidateFunction | null;
}

/** The parser annotates every schema with x-parser-* ids; they are no JSON Schema keywords, so strict ajv would refuse them. */
function withoutParserAnnotations(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutParserAnnotations);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema as Record<string, unknown>)
      .filter(([key]) => !key.startsWith('x-parser-'))
      .map(([key, value]) => [key, withoutParserAnnotations(value)]),
  );
}

function describeErrors(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`).join('; ');
}

/** The channel address as a pattern: each {parameter} one subject token (its enum when it has one). */
function addressPattern(address: string, enums: Record<string, string[] | undefined>): RegExp {
  const source = address
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const name = /^\{([^}]+)\}$/.exec(part)?.[1];
      if (!name) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      const values = enums[name];
      // The prefix may itself have several tokens (e.g. keys.v1).
      if (name === 'prefix') return '(?<prefix>[^*>\\s]+)';
      return `(?<${name}>${values ? values.join('|') : '[^.*>\\s]+'})`;
    })
    .join('');
  return new RegExp(`^${source}$`);
}

/**
 * Loads docs/asyncapi.yaml through @asyncapi/parser (so an invalid document fails here as in CI) and compiles
 * the messages' own payload and header schemas with ajv: the test holds messages to the document, not to a copy.
 */
export async function loadAsyncApiContract(path = ASYNCAPI_PATH): Promise<AsyncApiContract> {
  const { document, diagnostics } = await new Parser().parse(readFileSync(path, 'utf8'), { source: path });
  if (!document) throw new Error(`${path} does not parse: ${diagnostics.map((d) => d.message).join('; ')}`);
  // Strict: a misspelt keyword in the document is an error, not a silently ignored constraint.
  const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true });
  addFormats(ajv);
  const compile = (schema: unknown) => ajv.compile(withoutParserAnnotations(schema) as object);

  const messagesOf = (list: { all(): Array<{ name(): string | undefined; id(): string; payload(): { json(): unknown } | undefined; headers(): { json(): unknown } | undefined }> }) =>
    list.all().map((m): CompiledMessage => {
      const payload = m.payload();
      if (!payload) throw new Error(`message ${m.id()} has no payload schema`);
      const headers = m.headers();
      return { name: m.name() ?? m.id(), payload: compile(payload.json()), headers: headers ? compile(headers.json()) : null };
    });

  const eventsChannel = document.channels().get('keyEvents');
  const verifyOperation = document.operations().get('answerVerify');
  const reply = verifyOperation?.reply();
  if (!eventsChannel || !verifyOperation || !reply) throw new Error('docs/asyncapi.yaml lacks the keyEvents channel or the answerVerify operation with its reply');
  const events = new Map(messagesOf(eventsChannel.messages()).map((m) => [m.name, m]));
  const enums = Object.fromEntries(eventsChannel.parameters().all().map((p) => [p.id(), p.schema()?.enum() as string[] | undefined]));
  const subjectPattern = addressPattern(eventsChannel.address() ?? '', enums);
  const requests = messagesOf(verifyOperation.messages());
  const answers = messagesOf(reply.messages());

  /** Exactly one of `candidates` accepts `payload`, as AsyncAPI asks of a message list. */
  const exactlyOne = (what: string, candidates: CompiledMessage[], payload: unknown): ContractProblem => {
    const accepted = candidates.filter((m) => m.payload(payload));
    if (accepted.length === 1) return null;
    if (accepted.length > 1) return `${what} matches ${accepted.length} messages (${accepted.map((m) => m.name).join(', ')}), not one`;
    const detail = candidates.map((m) => (m.payload(payload), `${m.name}: ${describeErrors(m.payload)}`)).join(' | ');
    return `${what} ${JSON.stringify(payload)} matches none of the documented messages: ${detail}`;
  };

  return {
    eventTypes: [...events.keys()],
    checkEvent(subject, headers, payload) {
      const match = subjectPattern.exec(subject);
      if (!match?.groups) return `subject ${subject} does not match the channel address ${eventsChannel.address()}`;
      const message = events.get(match.groups.type);
      if (!message) return `subject ${subject}: no message ${match.groups.type} on the events channel`;
      if (!message.payload(payload)) return `${message.name} payload: ${describeErrors(message.payload)}`;
      if (message.headers && !message.headers(headers)) return `${message.name} headers: ${describeErrors(message.headers)}`;
      const type = (payload as { type?: unknown }).type;
      if (type !== match.groups.type) return `subject ${subject} names ${match.groups.type} but the payload is a ${String(type)}`;
      return null;
    },
    checkVerifyRequest: (payload) => exactlyOne('verify request', requests, payload),
    checkVerifyAnswer: (payload) => exactlyOne('verify answer', answers, payload),
  };
}
