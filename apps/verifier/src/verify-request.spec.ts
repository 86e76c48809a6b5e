import { MAX_REQUEST_BYTES, encodeNestAnswer, encodeVerdict, parseVerifyRequest } from './verify-request';
// Nest's own (de)serializers need the metadata polyfill that importing @nestjs/microservices would load.
import 'reflect-metadata';
import { NatsResponseJSONDeserializer } from '@nestjs/microservices/deserializers';
import { NatsRecordSerializer } from '@nestjs/microservices/serializers';
import { refusal } from '@keys/domain';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('parseVerifyRequest', () => {
  it('accepts {"key": string, "scope": "proxy"|"billing"}', () => {
    expect(parseVerifyRequest(bytes('{"key":"ms-abc","scope":"proxy"}'))).toEqual({ key: 'ms-abc', scope: 'proxy' });
    expect(parseVerifyRequest(bytes('{"scope":"billing","key":""}'))).toEqual({ key: '', scope: 'billing' });
  });

  it('reads the canonical layout exactly as JSON.parse would, and every variation of it too', () => {
    const key = 'ms-lMx8j2p5Vd5a7VHLQGitlOQZuzpksKg1m2jQJFM6nMT2mKPT0';
    for (const text of [
      `{"key":"${key}","scope":"proxy"}`,
      `{"key":"${key}","scope":"billing"}`,
      `{"key":"","scope":"proxy"}`,
      `{"key":"ms-a\\b","scope":"proxy"}`,
      `{"key":"ms-\u0041","scope":"proxy"}`,
      `{"key":"ms-é","scope":"proxy"}`,
      `{"key": "${key}", "scope": "proxy"}`,
      `{"key":"${key}","scope":"proxy"} `,
    ]) {
      const parsed = JSON.parse(text) as { key: string; scope: string };
      expect(parseVerifyRequest(bytes(text))).toEqual({ key: parsed.key, scope: parsed.scope });
    }
    for (const text of [`{"key":"${key}","scope":"proxy"}x`, `{"key":"${key}","scope":"proxy","key":1}`, `{"key":"${key}","scope":"proxies"}`, `{"key":"${key}`]) {
      expect(parseVerifyRequest(bytes(text))).toBeNull();
    }
  });

  it.each<[string, Uint8Array | null | undefined]>([
    ['null data', null],
    ['empty', bytes('')],
    ['whitespace', bytes('   ')],
    ['not JSON', bytes('ms-abc')],
    ['truncated JSON', bytes('{"key":"ms-abc","scope":"pro')],
    ['not UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
    ['JSON null', bytes('null')],
    ['JSON string', bytes('"ms-abc"')],
    ['JSON number', bytes('42')],
    ['JSON array', bytes('[{"key":"ms-abc","scope":"proxy"}]')],
    ['empty object', bytes('{}')],
    ['missing scope', bytes('{"key":"ms-abc"}')],
    ['missing key', bytes('{"scope":"proxy"}')],
    ['key not a string', bytes('{"key":42,"scope":"proxy"}')],
    ['key null', bytes('{"key":null,"scope":"proxy"}')],
    ['key an object', bytes('{"key":{"toString":"ms-abc"},"scope":"proxy"}')],
    ['unknown scope', bytes('{"key":"ms-abc","scope":"admin"}')],
    ['scope in capitals', bytes('{"key":"ms-abc","scope":"PROXY"}')],
    ['scope not a string', bytes('{"key":"ms-abc","scope":["proxy"]}')],
    ['an extra field', bytes('{"key":"ms-abc","scope":"proxy","admin":true}')],
    ['__proto__ smuggling', bytes('{"key":"ms-abc","scope":"proxy","__proto__":{"x":1}}')],
    ['huge', bytes(JSON.stringify({ key: 'ms-' + 'a'.repeat(MAX_REQUEST_BYTES), scope: 'proxy' }))],
  ])('%s → null (BAD_REQUEST)', (_name, data) => {
    expect(parseVerifyRequest(data)).toBeNull();
  });
});

describe('encodeVerdict', () => {
  it('writes the docs/verification.md refusal shape', () => {
    expect(JSON.parse(new TextDecoder().decode(encodeVerdict(refusal('INACTIVE'))))).toEqual({ valid: false, code: 'INACTIVE', status: 403 });
    expect(new TextDecoder().decode(encodeVerdict(refusal('BAD_REQUEST')))).toBe('{"valid":false,"code":"BAD_REQUEST","status":400}');
  });
});

describe('a request in the envelope of @nestjs/microservices ClientNats', () => {
  const key = 'ms-lMx8j2p5Vd5a7VHLQGitlOQZuzpksKg1m2jQJFM6nMT2mKPT0';
  const id = '6b1e3c2a-0f47-4a8e-9d55-2b7f3e1c9a10';
  const nest = (data: unknown, extra: Record<string, unknown> = {}) => bytes(JSON.stringify({ pattern: 'keys.v1.verify', data, id, ...extra }));

  it('is read as the inner request with the packet id', () => {
    expect(parseVerifyRequest(nest({ key, scope: 'proxy' }))).toEqual({ nestId: id, request: { key, scope: 'proxy' } });
    expect(parseVerifyRequest(nest({ scope: 'billing', key }))).toEqual({ nestId: id, request: { key, scope: 'billing' } });
    // Any pattern string: a service import may map the caller's subject to ours.
    expect(parseVerifyRequest(bytes(JSON.stringify({ id, data: { key, scope: 'proxy' }, pattern: 'other.verify' })))).toEqual({ nestId: id, request: { key, scope: 'proxy' } });
  });

  it('is exactly what Nest serializes for client.send(pattern, {key, scope})', () => {
    const packet = { pattern: 'keys.v1.verify', data: { key, scope: 'proxy' }, id };
    const { data } = new NatsRecordSerializer().serialize(packet);
    expect(parseVerifyRequest(data)).toEqual({ nestId: id, request: { key, scope: 'proxy' } });
  });

  it.each<[string, unknown]>([
    ['null data', null],
    ['data a string', key],
    ['data an array', [{ key, scope: 'proxy' }]],
    ['missing scope', { key }],
    ['unknown scope', { key, scope: 'admin' }],
    ['an extra field in data', { key, scope: 'proxy', admin: true }],
  ])('with bad data (%s) keeps the id: BAD_REQUEST, wrapped', (_name, data) => {
    expect(parseVerifyRequest(nest(data))).toEqual({ nestId: id, request: null });
  });

  it.each<[string, string]>([
    ['no id (an emit, or not Nest)', JSON.stringify({ pattern: 'keys.v1.verify', data: { key, scope: 'proxy' } })],
    ['id not a string', JSON.stringify({ pattern: 'keys.v1.verify', data: { key, scope: 'proxy' }, id: 7 })],
    ['pattern not a string', JSON.stringify({ pattern: { cmd: 'verify' }, data: { key, scope: 'proxy' }, id })],
    ['no data field', JSON.stringify({ pattern: 'keys.v1.verify', id })],
    ['an extra field', JSON.stringify({ pattern: 'keys.v1.verify', data: { key, scope: 'proxy' }, id, headers: {} })],
  ])('that is not exactly Nest\'s (%s) is a plain BAD_REQUEST', (_name, text) => {
    expect(parseVerifyRequest(bytes(text))).toBeNull();
  });
});

describe('encodeNestAnswer', () => {
  const id = '6b1e3c2a-0f47-4a8e-9d55-2b7f3e1c9a10';

  it('writes what ServerNats sends for a handler returning the verdict', () => {
    const verdictBytes = encodeVerdict(refusal('DELETED'));
    expect(new TextDecoder().decode(encodeNestAnswer(id, verdictBytes))).toBe(
      `{"response":{"valid":false,"code":"DELETED","status":401},"isDisposed":true,"id":"${id}"}`,
    );
    // ServerNats: Object.assign({response, isDisposed: true}, {id}) through NatsRecordSerializer.
    const nestBytes = new NatsRecordSerializer().serialize(Object.assign({ response: refusal('DELETED'), isDisposed: true }, { id })).data;
    expect(encodeNestAnswer(id, verdictBytes)).toEqual(nestBytes);
  });

  it('is unwrapped by ClientNats to exactly the plain verdict', async () => {
    const verdict = refusal('BAD_REQUEST');
    const message = await new NatsResponseJSONDeserializer().deserialize(encodeNestAnswer(id, encodeVerdict(verdict)));
    expect(message).toEqual({ id, response: verdict, isDisposed: true });
  });

  it('escapes the id as JSON', () => {
    const answer = JSON.parse(new TextDecoder().decode(encodeNestAnswer('a"\\\u00e9', encodeVerdict(refusal('MALFORMED')))));
    expect(answer).toEqual({ response: refusal('MALFORMED'), isDisposed: true, id: 'a"\\\u00e9' });
  });
});
