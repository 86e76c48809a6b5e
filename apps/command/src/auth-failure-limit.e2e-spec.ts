import { KEY_VERIFIER, type KeyVerifier } from '@keys/auth';
import { generateKey } from '@keys/key-material';
import { createTestContext, type TestContext } from '@keys/testing';
import { apiClient, openKeyService, operator, startCommandApp, type RunningCommandApp } from '../../../test/fixtures/command-app.fixture';

// Guessing billing keys (or flooding with well-formed unknown ones, each a key_lookup query)
// is bounded per client IP: after AUTH_FAILURE_BURST failures, that IP gets 429 before any key is looked at.
describe('failed authentication is limited per client IP', () => {
  let ctx: TestContext;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let app: RunningCommandApp;
  let lookups: jest.SpyInstance;

  beforeAll(async () => {
    ctx = await createTestContext();
    store = await openKeyService(ctx);
    // trustProxy so the test can speak from several addresses; the burst is small to keep the test short.
    app = await startCommandApp(ctx, { trustProxy: true, authFailuresPerMinute: 6, authFailureBurst: 5, runExpirySweep: false });
    // Counts the keys the command looks up (its billing-key verifier, which queries key_lookup).
    lookups = jest.spyOn(app.app.get<KeyVerifier>(KEY_VERIFIER), 'verify');
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
    await ctx?.dispose();
  });

  it('answers 429 with Retry-After once an address has failed the burst, without looking the key up; other addresses are unaffected', async () => {
    const from = (ip: string, key: string) => apiClient(app.baseUrl, key).get('/api/keys', { 'x-forwarded-for': ip });
    const guesses = Array.from({ length: 5 }, () => generateKey('billing').key);
    for (const guess of guesses) expect((await from('198.51.100.7', guess)).status).toBe(401);
    const lookupsBefore = lookups.mock.calls.length;
    expect(lookupsBefore).toBeGreaterThanOrEqual(5);

    const limited = await from('198.51.100.7', generateKey('billing').key);
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ error: { type: 'invalid_request_error', code: 'rate_limited', message: expect.any(String) } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 20; i++) expect((await from('198.51.100.7', generateKey('billing').key)).status).toBe(429);
    expect(lookups.mock.calls.length).toBe(lookupsBefore);

    // Another address still gets its own answers, and a caller with a valid key never spends tokens.
    const { billingKey } = await store.keys.createAccount('Acme', operator);
    expect((await from('203.0.113.9', generateKey('billing').key)).status).toBe(401);
    for (let i = 0; i < 8; i++) expect((await from('203.0.113.10', billingKey.key)).status).toBe(200);
  });
});
