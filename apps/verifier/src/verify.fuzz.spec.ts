import fc from 'fast-check';
import type { Msg, NatsConnection } from 'nats';
import { VERIFY_STATUS, type Verdict } from '@keys/domain';
import { generateKey } from '@keys/key-material';
import { VerifierIndex } from './verifier-index';
import { VerifyMessageController } from './verify.message.controller';

// Property-based: whatever bytes arrive on <prefix>.verify, the answer is a well-formed verdict and never a throw.
// Fixed seeds keep CI reproducible; on a failure fast-check prints the seed and path to replay it.

const SEED = 20261126;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function verifier() {
  const index = new VerifierIndex();
  const proxy = generateKey('proxy');
  const billing = generateKey('billing');
  index.apply({ position: 1, type: 'KeyCreated', data: { keyId: 1, accountId: 1, keyType: 'proxy', name: 'p', prefix: proxy.prefix, hash: proxy.hash, expiresAt: null } });
  index.apply({ position: 2, type: 'KeyCreated', data: { keyId: 2, accountId: 1, keyType: 'billing', name: 'b', prefix: billing.prefix, hash: billing.hash, expiresAt: null } });
  const controller = new VerifyMessageController(index, 'fuzz.keys.v1');
  // Driven through its subscription callback, as NATS would: the answer checked is the bytes a client gets.
  let callback!: (err: null, msg: Msg) => void;
  controller.listen({ subscribe: (_s: string, o: { callback: typeof callback }) => ((callback = o.callback), { isClosed: () => false }) } as unknown as NatsConnection);
  const ask = (data: Uint8Array): Verdict => {
    let answer: Uint8Array | undefined;
    callback(null, { data, respond: (bytes: Uint8Array) => ((answer = bytes), true) } as unknown as Msg);
    expect(answer).toBeDefined();
    expect(controller.answer(data)).toEqual(JSON.parse(decoder.decode(answer)));
    return JSON.parse(decoder.decode(answer)) as Verdict;
  };
  return { ask, keys: [proxy.key, billing.key] };
}

function expectWellFormed(verdict: Verdict, valid: { key: string; scope: unknown } | null, keys: string[]): void {
  expect(Object.keys(verdict).sort()).toEqual(verdict.valid ? ['code', 'key', 'status', 'valid'] : ['code', 'status', 'valid']);
  expect(Object.keys(VERIFY_STATUS)).toContain(verdict.code);
  expect(verdict.status).toBe(VERIFY_STATUS[verdict.code]);
  expect(verdict.valid).toBe(verdict.code === 'VALID');
  if (verdict.valid) {
    // Only the stored key itself, asked for in its own scope, is ever VALID.
    expect(valid).not.toBeNull();
    expect(keys.indexOf(valid!.key)).toBe(valid!.scope === 'proxy' ? 0 : 1);
    expect(verdict.key).toEqual(expect.objectContaining({ id: expect.any(Number), accountId: 1, type: valid!.scope }));
  }
}

describe('verify answers under fuzzing', () => {
  const { ask, keys } = verifier();
  // Keys that are almost right: a real key with one character changed, cut, extended or re-prefixed.
  const nearKey = fc
    .tuple(fc.constantFrom(...keys), fc.nat(60), fc.string({ maxLength: 3 }), fc.constantFrom('replace', 'cut', 'extend', 'prefix'))
    .map(([key, at, text, how]) => {
      if (how === 'replace') return key.slice(0, at) + text + key.slice(at + 1);
      if (how === 'cut') return key.slice(0, at);
      if (how === 'extend') return key + text;
      return text + key.slice(3);
    });
  const anyKey = fc.oneof(fc.constantFrom(...keys), nearKey, fc.string(), fc.string({ unit: 'binary' }), fc.jsonValue());
  const anyScope = fc.oneof(fc.constantFrom('proxy', 'billing', 'PROXY', '', ' proxy'), fc.string(), fc.jsonValue());

  it('answers arbitrary bytes with a refusal', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => expectWellFormed(ask(bytes), null, keys)),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it('answers arbitrary JSON and near-miss requests with a well-formed verdict, VALID only for the real key in its scope', () => {
    const request = fc.oneof(
      fc.record({ key: anyKey, scope: anyScope }),
      fc.record({ key: anyKey, scope: anyScope, extra: fc.jsonValue() }, { requiredKeys: [] }),
      fc.jsonValue(),
    );
    const layout = fc.constantFrom('canonical', 'spaced', 'reordered');
    fc.assert(
      fc.property(request, layout, (body, how) => {
        let text = JSON.stringify(body) ?? 'null';
        if (how === 'spaced') text = JSON.stringify(body, null, 1) ?? 'null';
        if (how === 'reordered' && body && typeof body === 'object' && !Array.isArray(body)) text = JSON.stringify(Object.fromEntries(Object.entries(body).reverse()));
        const asked = body && typeof body === 'object' && !Array.isArray(body) && 'key' in body ? (body as { key: string; scope: unknown }) : null;
        expectWellFormed(ask(encoder.encode(text)), asked, keys);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});
