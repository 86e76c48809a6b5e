import fc from 'fast-check';
import type { INestApplication } from '@nestjs/common';
import { createTestContext, type TestContext } from '@keys/testing';
import { createProjectorApp } from '../../projector/src/main';
import { readProjectorConfig } from '../../projector/src/projector.config';
import { apiClient, type ApiResponse, openKeyService, operator, startCommandApp, type RunningCommandApp } from '../../../test/fixtures/command-app.fixture';

// Property-based fuzzing of the command's HTTP surface: bodies, headers and path ids. Whatever arrives, the answer
// is never a 5xx, and is either a documented success shape or the documented error body. Fixed seeds keep CI
// reproducible; on a failure fast-check prints the seed and the shrunk case.

const SEED = 20261126;

const ERROR_TYPES = ['invalid_request_error', 'authentication_error', 'permission_error', 'not_found_error', 'conflict_error'];
const ERROR_CODES = [
  'validation_failed', 'payload_too_large', 'unsupported_media_type', 'method_not_allowed', 'rate_limited', 'request_failed',
  'invalid_api_key', 'expired_api_key', 'key_inactive', 'wrong_key_type', 'forbidden',
  'key_not_found', 'route_not_found',
  'key_deleted', 'key_expired', 'key_revoked', 'last_billing_key', 'key_exists', 'expiry_not_reached', 'concurrent_update',
];

const KEY_FIELDS = ['active', 'createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'prefix'];
/** On the key object, not on a key just issued (which is never revoked). */
const REVOCATION_FIELDS = ['revokedAt', 'revokedFoundAt', 'revokedReason'];

function expectDocumented(res: ApiResponse, success: 'key' | 'issued' | 'deleted' | 'list'): void {
  expect(res.status).toBeLessThan(500);
  if (res.status >= 400) {
    const error = res.body?.error;
    expect(Object.keys(res.body ?? {})).toEqual(['error']);
    expect(ERROR_TYPES).toContain(error.type);
    expect(ERROR_CODES).toContain(error.code);
    expect(typeof error.message).toBe('string');
    expect(Object.keys(error).every((k) => ['message', 'type', 'code', 'param'].includes(k))).toBe(true);
    if (error.code === 'validation_failed' && 'param' in error) expect(typeof error.param).toBe('string');
    return;
  }
  const key = (k: Record<string, unknown>, issued: boolean) => {
    expect(Object.keys(k).sort()).toEqual((issued ? [...KEY_FIELDS, 'key'] : [...KEY_FIELDS, ...REVOCATION_FIELDS]).sort());
    expect(typeof k.id === 'number' && typeof k.name === 'string' && typeof k.active === 'boolean').toBe(true);
    // What was stored reads back as a clean name: NFC, trimmed, no control characters.
    expect(k.name).toBe((k.name as string).normalize('NFC').trim());
    expect(k.name).not.toMatch(/[\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069]/u);
    if (k.expiresAt !== null) expect(new Date(k.expiresAt as string).toISOString()).toBe(k.expiresAt);
  };
  if (success === 'list') expect(Array.isArray(res.body.keys)).toBe(true);
  else if (success === 'deleted') expect(res.body).toEqual({ id: expect.any(Number), deleted: true });
  else key(res.body, success === 'issued');
}

describe('command HTTP under fuzzing', () => {
  let ctx: TestContext;
  let running: RunningCommandApp;
  let projector: INestApplication;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let api: ReturnType<typeof apiClient>;
  let billingKey: string;
  let billingKeyId: number;
  let proxyKeyId: number;

  beforeAll(async () => {
    ctx = await createTestContext();
    running = await startCommandApp(ctx);
    // Reads wait for the projection of the account's writes: without a projector each GET would take the 2 s timeout.
    projector = await createProjectorApp(
      readProjectorConfig({ DATABASE_URL: ctx.databaseUrl, NATS_URL: ctx.natsUrl, KEYS_STREAM: ctx.streamName, KEYS_SUBJECT_PREFIX: ctx.subjectPrefix }),
      { quiet: true },
    );
    await projector.init();
    store = await openKeyService(ctx);
    const account = await store.keys.createAccount('Fuzz', operator);
    billingKey = account.billingKey.key;
    billingKeyId = account.billingKey.state.keyId;
    api = apiClient(running.baseUrl, billingKey);
    proxyKeyId = (await api.post('/api/keys', { name: 'target' })).body.id;
  });
  afterAll(async () => {
    await running?.close();
    await projector?.close();
    await store?.close();
    await ctx?.dispose();
  });

  // Strings with everything in them: lone surrogates, controls, bidi, NUL, and RFC 3339 look-alikes.
  const nasty = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
    fc.string({ unit: fc.constantFrom('\u0000', '\ud800', '\udc00', '\u202e', '\u2066', '\u200b', '\u0301', 'e', ' ', '\t', 'é', '😀', '\u0085') }),
    fc.date({ noInvalidDate: true, min: new Date(-8.64e15), max: new Date(8.64e15) }).map((d) => d.toISOString()),
    fc.tuple(fc.integer({ min: 0, max: 99999 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.constantFrom('T', 't', ' ', ''), fc.constantFrom('Z', 'z', '+02:00', '-24:00', '', '+0200')).map(
      ([y, m, d, t, z]) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}${t}12:00:00${z}`,
    ),
    fc.constantFrom('2030-W01-1', '2030-123', '20300101T000000Z', '2030-01-01', '2030-02-30T00:00:00Z', '+275760-09-13T00:00:00.000Z', '2030-01-01T00:00:00Z'),
  );
  const field = fc.oneof(
    { weight: 4, arbitrary: nasty },
    fc.integer(),
    fc.double(),
    fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, 2 ** 63, 2 ** 64, 0, -0, 31_536_001),
    fc.boolean(),
    fc.constant(null),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const keyBody = fc.oneof(
    fc.record({ name: field, expires_at: field, expiresAt: field, active: field, expires_in_seconds: field }, { requiredKeys: [] }),
    fc.record({ name: nasty }),
    fc.dictionary(fc.string({ maxLength: 12 }), field, { maxKeys: 4 }),
    fc.jsonValue({ maxDepth: 3 }),
  );
  const kind = fc.constantFrom('keys', 'billing-keys');
  // Path ids: anything, but never the fuzzer's own billing key (deleting, deactivating or rolling it would lock the run out).
  const pathId = fc
    .oneof(fc.string(), fc.string({ unit: 'binary' }), fc.bigInt().map(String), fc.double().map(String), fc.constantFrom('0', '-1', '1e3', '9007199254740993', '999999999999999', '0x10', ' 1', '%00', '..'))
    .map((s) => ({ raw: s, segment: s === '..' || s === '.' ? s : encodeURIComponent(s) }));
  const safeId = (kindOf: string, id: { raw: string }) => !(kindOf === 'billing-keys' && Number(id.raw.trim()) === billingKeyId);

  it('POST create: arbitrary bodies', async () => {
    await fc.assert(
      fc.asyncProperty(kind, keyBody, async (k, body) => expectDocumented(await api.post(`/api/${k}`, body), 'issued')),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('PUT and PATCH: arbitrary bodies on an existing key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('put', 'patch') as fc.Arbitrary<'put' | 'patch'>, keyBody, async (method, body) => {
        // Reactivation and expiry on the one proxy key: dead keys answer 409s, which are documented too.
        expectDocumented(await api[method](`/api/keys/${proxyKeyId}`, body), 'key');
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('raw bodies: arbitrary text with any content type', async () => {
    const contentType = fc.oneof(fc.constantFrom('application/json', 'application/json; charset=utf-16', 'text/plain', 'application/x-www-form-urlencoded', 'application/merge-patch+json', ''), fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) }));
    await fc.assert(
      fc.asyncProperty(kind, fc.oneof(fc.string(), fc.json(), fc.string({ unit: 'binary', maxLength: 40_000 })), contentType, async (k, text, type) => {
        expectDocumented(await api.call('POST', `/api/${k}`, text, { 'content-type': type }), 'issued');
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('ids in paths: arbitrary segments on every key route', async () => {
    const route = fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'ROLL');
    await fc.assert(
      fc.asyncProperty(kind, route, pathId, fc.option(keyBody, { nil: undefined }), async (k, r, id, body) => {
        if (!safeId(k, id)) return;
        const path = `/api/${k}/${id.segment}${r === 'ROLL' ? '/roll' : ''}`;
        const res = await api.call(r === 'ROLL' ? 'POST' : r, path, r === 'GET' || r === 'DELETE' ? undefined : body);
        // An empty segment is the collection route (GET /api/keys/ lists).
        expectDocumented(res, id.segment === '' && r === 'GET' ? 'list' : r === 'DELETE' ? 'deleted' : r === 'ROLL' ? 'issued' : 'key');
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('headers: Authorization garbage, X-Request-Id, X-Keys-Min-Position, User-Agent', async () => {
    // What fetch can send in a header (a ByteString without CR, LF or NUL).
    const headerText = fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(9)).map((c) => String.fromCharCode(c)), maxLength: 300 });
    const authorization = fc.oneof(
      headerText,
      headerText.map((t) => `Bearer ${t}`),
      fc.constantFrom('Bearer', 'Bearer ', 'Basic Zm9vOmJhcg==', `bearer ${'x'.repeat(8000)}`),
      fc.nat(52).map((n) => `Bearer ${billingKey.slice(0, n)}`),
      fc.constant(`Bearer ${billingKey}`),
    );
    await fc.assert(
      fc.asyncProperty(kind, authorization, headerText, headerText, headerText, async (k, auth, requestId, minPosition, agent) => {
        const headers = { authorization: auth.trim(), 'x-request-id': requestId.trim(), 'x-keys-min-position': minPosition.trim(), 'user-agent': agent.trim() };
        const noKey = apiClient(running.baseUrl);
        expectDocumented(await noKey.get(`/api/${k}`, headers), 'list');
        expectDocumented(await noKey.post(`/api/${k}`, { name: 'h' }, headers), 'issued');
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
