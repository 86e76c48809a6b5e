import { randomInt } from 'node:crypto';
import { BASE62_ALPHABET } from './base62';
import { checksumOf } from './checksum';
import {
  constantTimeEqual,
  generateKey,
  hashKey,
  KEY_LENGTH,
  KEY_PREFIXES,
  keyPrefix,
  keyTypeOf,
  parseKey,
  type ParseKeyFailure,
} from './index';

const KEY_SHAPE = /^(ms|mk)-[0-9A-Za-z]{49}$/;

/** A syntactically valid key with a correct checksum built from a chosen body. */
function keyWithBody(typePrefix: string, body: string): string {
  const head = typePrefix + body;
  return head + checksumOf(head);
}

describe('generateKey', () => {
  it('produces keys of the documented shape whose prefix and hash match the key', () => {
    const { key, prefix, hash } = generateKey('proxy');
    expect(key).toHaveLength(52);
    expect(KEY_LENGTH).toBe(52);
    expect(key).toMatch(KEY_SHAPE);
    expect(key.startsWith('ms-')).toBe(true);
    expect(prefix).toBe(key.slice(0, 8));
    expect(hash).toBe(hashKey(key));
    expect(generateKey('billing').key.startsWith('mk-')).toBe(true);
  });

  it('every generated key validates, with its type (10,000 keys)', () => {
    for (let i = 0; i < 10_000; i++) {
      const type = i % 2 === 0 ? 'proxy' : 'billing';
      const { key, prefix } = generateKey(type);
      const parsed = parseKey(key);
      if (!parsed.ok) throw new Error(`generated key ${i} failed: ${parsed.reason}`);
      expect(parsed.type).toBe(type);
      expect(parsed.prefix).toBe(prefix);
      expect(parsed.key).toBe(key);
    }
  });

  it('never repeats a key in 100,000 draws', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(generateKey('proxy').key);
    expect(seen.size).toBe(100_000);
  });

  it('uses the whole alphabet in the body (not, say, hex)', () => {
    const used = new Set<string>();
    for (let i = 0; i < 200; i++) for (const c of generateKey('proxy').key.slice(3, 46)) used.add(c);
    expect(used.size).toBe(62);
  });

  it('refuses an unknown key type', () => {
    expect(() => generateKey('admin' as never)).toThrow(TypeError);
  });
});

describe('parseKey detects mistyped keys', () => {
  it('rejects at least 99.99% of 100,000 random single-character changes', () => {
    const trials = 100_000;
    let rejected = 0;
    const reasons = new Map<string, number>();
    let base = generateKey('proxy').key;
    for (let i = 0; i < trials; i++) {
      if (i % 100 === 0) base = generateKey(i % 200 === 0 ? 'proxy' : 'billing').key;
      const position = randomInt(KEY_LENGTH);
      let replacement: string;
      do replacement = BASE62_ALPHABET[randomInt(62)];
      while (replacement === base[position]);
      const mutated = base.slice(0, position) + replacement + base.slice(position + 1);
      const parsed = parseKey(mutated);
      if (!parsed.ok) {
        rejected++;
        reasons.set(parsed.reason, (reasons.get(parsed.reason) ?? 0) + 1);
      }
    }
    expect(rejected / trials).toBeGreaterThanOrEqual(0.9999);
    // Most changes land in the body or checksum, so the checksum is what catches them.
    expect(reasons.get('bad_checksum') ?? 0).toBeGreaterThan(trials * 0.8);
  });
});

describe('parseKey failure reasons', () => {
  const valid = generateKey('billing').key;

  const cases: Array<[string, unknown, ParseKeyFailure]> = [
    ['undefined', undefined, 'not_a_string'],
    ['null', null, 'not_a_string'],
    ['a number', 42, 'not_a_string'],
    ['an object', { key: valid }, 'not_a_string'],
    ['a String object', new String(valid), 'not_a_string'],
    ['an array', [valid], 'not_a_string'],
    ['the empty string', '', 'wrong_prefix'],
    ['another vendor prefix', 'sk-' + valid.slice(3), 'wrong_prefix'],
    ['an upper-case prefix', 'MS-' + valid.slice(3), 'wrong_prefix'],
    ['a bare prefix', 'ms-', 'wrong_length'],
    ['a truncated key', valid.slice(0, -1), 'wrong_length'],
    ['a key with a trailing newline', valid + '\n', 'wrong_length'],
    ['a 10 MB string', 'ms-' + 'a'.repeat(10_000_000), 'wrong_length'],
    ['a dash in the body', valid.slice(0, 10) + '-' + valid.slice(11), 'bad_alphabet'],
    ['a non-ASCII letter', valid.slice(0, 10) + 'é' + valid.slice(11), 'bad_alphabet'],
    ['a space in the checksum', valid.slice(0, -1) + ' ', 'bad_alphabet'],
    ['a correct-looking but made-up key', 'ms-' + 'A'.repeat(49), 'bad_checksum'],
    ['the other type prefix on a valid body', 'ms-' + valid.slice(3), 'bad_checksum'],
  ];

  it.each(cases)('%s → %s', (_label, input, reason) => {
    expect(parseKey(input)).toEqual({ ok: false, reason });
  });

  it('accepts a hand-built key with a correct checksum, even an all-zero body', () => {
    const key = keyWithBody('ms-', '0'.repeat(43));
    expect(parseKey(key)).toEqual({ ok: true, type: 'proxy', key, prefix: 'ms-00000' });
  });

  it('never throws, whatever it is given', () => {
    const odd: unknown[] = [
      Symbol('x'),
      10n,
      () => valid,
      Object.create(null),
      { toString: () => { throw new Error('boom'); } },
      new Proxy({}, { get: () => { throw new Error('trap'); } }),
      '\u0000'.repeat(52),
      'ms-' + '\ud800'.repeat(49),
      'mk-' + '😀'.repeat(24) + 'a',
    ];
    for (const input of odd) expect(() => parseKey(input)).not.toThrow();
    for (let i = 0; i < 2_000; i++) {
      const length = randomInt(0, 80);
      let s = i % 2 === 0 ? 'ms-' : '';
      for (let j = 0; j < length; j++) s += String.fromCharCode(randomInt(0, 0xffff));
      const parsed = parseKey(s);
      expect(parsed.ok).toBe(false);
    }
  });
});

describe('hashKey', () => {
  it('is 64 lowercase hex characters, deterministic, and differs between keys', () => {
    const { key } = generateKey('proxy');
    expect(hashKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashKey(key)).toBe(hashKey(key));
    expect(hashKey(key)).not.toBe(hashKey(generateKey('proxy').key));
  });

  it('is SHA-256 of the key text', () => {
    expect(hashKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('keyPrefix and keyTypeOf', () => {
  it('take the first 8 characters and read the type from them', () => {
    const { key } = generateKey('billing');
    expect(keyPrefix(key)).toBe(key.slice(0, 8));
    expect(keyTypeOf(keyPrefix(key))).toBe('billing');
    expect(keyTypeOf('ms-Ab12x')).toBe('proxy');
    expect(keyTypeOf(KEY_PREFIXES.billing)).toBe('billing');
    expect(keyTypeOf('sk-Ab12x')).toBeNull();
    expect(keyTypeOf('')).toBeNull();
  });
});

describe('constantTimeEqual', () => {
  it('is true only for identical strings, including different lengths without throwing', () => {
    const hash = hashKey('x');
    expect(constantTimeEqual(hash, hashKey('x'))).toBe(true);
    expect(constantTimeEqual(hash, hashKey('y'))).toBe(false);
    expect(constantTimeEqual(hash, hash.slice(1))).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual('', 'a')).toBe(false);
    expect(constantTimeEqual(null as never, 'a')).toBe(false);
  });
});
