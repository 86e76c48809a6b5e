import { type KeyType, type Verdict, type VerifyCode, refusal } from '@keys/domain';

/** A request bigger than this is refused unread: a real one is about 80 bytes. */
export const MAX_REQUEST_BYTES = 4096;

export interface VerifyRequest {
  key: string;
  scope: KeyType;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * The request as @nestjs/microservices' ClientNats sends it: `{"pattern": string, "data": <request>, "id": string}`
 * (NatsRecordSerializer of ClientProxy's `{pattern, data}` plus its packet id). `request` is null when `data` is
 * not a valid request: the BAD_REQUEST answer is then wrapped for `id` like any other.
 */
export interface NestVerifyRequest {
  nestId: string;
  request: VerifyRequest | null;
}

/**
 * `{"key": string, "scope": "proxy"|"billing"}` and nothing else, that request in a Nest envelope, or null
 * (→ BAD_REQUEST). Never throws, whatever the bytes: empty, not UTF-8, not JSON, huge, or JSON of the wrong shape.
 */
export function parseVerifyRequest(data: Uint8Array | null | undefined): VerifyRequest | NestVerifyRequest | null {
  if (!data || data.length === 0 || data.length > MAX_REQUEST_BYTES) return null;
  return parseCanonical(data) ?? parseJson(data);
}

export const isNestRequest = (parsed: VerifyRequest | NestVerifyRequest): parsed is NestVerifyRequest => 'nestId' in parsed;

const latin1Slice = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;
const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const KEY_OPENING = ascii('{"key":"');
const PROXY_CLOSING = ascii('","scope":"proxy"}');
const BILLING_CLOSING = ascii('","scope":"billing"}');

/**
 * The request exactly as clients (libs/auth, JSON.stringify of {key, scope}) write it, read without decoding
 * or JSON.parse: `{"key":"…","scope":"proxy"|"billing"}` with a key of printable ASCII other than `"` and `\`,
 * for which JSON.parse would give the same two fields. Anything else (other order, spaces, escapes, non-ASCII)
 * is undefined here and goes through parseJson.
 */
function parseCanonical(data: Uint8Array): VerifyRequest | undefined {
  if (!startsWith(data, KEY_OPENING, 0)) return undefined;
  let end = KEY_OPENING.length;
  for (; end < data.length; end++) {
    const c = data[end];
    if (c === 0x22) break;
    if (c < 0x20 || c > 0x7e || c === 0x5c) return undefined;
  }
  let scope: KeyType;
  if (data.length - end === PROXY_CLOSING.length && startsWith(data, PROXY_CLOSING, end)) scope = 'proxy';
  else if (data.length - end === BILLING_CLOSING.length && startsWith(data, BILLING_CLOSING, end)) scope = 'billing';
  else return undefined;
  // Printable ASCII was checked above, so latin1 is the text; the native slice takes ~80 ns where
  // String.fromCharCode over the bytes took ~340.
  return { key: latin1Slice.call(data, KEY_OPENING.length, end), scope };
}

function startsWith(data: Uint8Array, expected: Uint8Array, at: number): boolean {
  if (data.length - at < expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (data[at + i] !== expected[i]) return false;
  return true;
}

function parseJson(data: Uint8Array): VerifyRequest | NestVerifyRequest | null {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    return null;
  }
  if (!isRecord(value)) return null;
  const { pattern, id } = value;
  // The pattern is not compared with the subject: a service import may map the caller's subject to ours, and
  // the subject has already routed the request here.
  if (typeof pattern === 'string' && typeof id === 'string' && 'data' in value && fieldCount(value) === 3) {
    return { nestId: id, request: isRecord(value.data) ? requestOf(value.data) : null };
  }
  return requestOf(value);
}

function requestOf(value: Record<string, unknown>): VerifyRequest | null {
  const { key, scope } = value;
  if (typeof key !== 'string' || (scope !== 'proxy' && scope !== 'billing')) return null;
  // Strict: an unknown field is more likely a client bug (e.g. "type" for "scope") than something to ignore.
  if (fieldCount(value) !== 2) return null;
  return { key, scope };
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function fieldCount(value: object): number {
  let fields = 0;
  for (const name in value) {
    if (Object.prototype.hasOwnProperty.call(value, name)) fields++;
  }
  return fields;
}

const NEST_OPENING = ascii('{"response":');
const NEST_MIDDLE = ascii(',"isDisposed":true,"id":');

/**
 * The answer ServerNats would send for a handler returning the verdict (`{response, isDisposed: true, id}`),
 * which ClientNats's NatsResponseJSONDeserializer resolves to the verdict itself. Built around the verdict's
 * bytes, so a cached VALID answer is reused.
 */
export function encodeNestAnswer(nestId: string, verdictBytes: Uint8Array): Uint8Array {
  const id = encoder.encode(JSON.stringify(nestId));
  const bytes = new Uint8Array(NEST_OPENING.length + verdictBytes.length + NEST_MIDDLE.length + id.length + 1);
  let at = 0;
  for (const part of [NEST_OPENING, verdictBytes, NEST_MIDDLE, id]) {
    bytes.set(part, at);
    at += part.length;
  }
  bytes[at] = 0x7d;
  return bytes;
}

// Refusals never change, so their bytes are built once.
const REFUSAL_BYTES = new Map<VerifyCode, Uint8Array>();

export function encodeVerdict(verdict: Verdict): Uint8Array {
  if (verdict.valid) return encoder.encode(JSON.stringify(verdict));
  let bytes = REFUSAL_BYTES.get(verdict.code);
  if (!bytes) {
    bytes = encoder.encode(JSON.stringify(refusal(verdict.code)));
    REFUSAL_BYTES.set(verdict.code, bytes);
  }
  return bytes;
}
