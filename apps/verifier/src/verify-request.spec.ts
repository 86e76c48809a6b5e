import { MAX_REQUEST_BYTES, encodeVerdict, parseVerifyRequest } from './verify-request';
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
    ['no data', undefined],
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
