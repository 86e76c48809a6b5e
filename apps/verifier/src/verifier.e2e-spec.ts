import { readStream } from '@keys/event-store';
import { generateKey } from '@keys/key-material';
import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { apiClient, openKeyService, type RunningCommandApp } from '../../../test/fixtures/command-app.fixture';
import { startCommandWithVerifier, verifyClient, type RunningVerifierApp, type VerifyClient } from '../../../test/fixtures/verifier-app.fixture';

// docs/verification.md over real NATS request-reply: every code, request limits, and revocation within a second.

describe('verifier over NATS', () => {
  let ctx: TestContext;
  let command: RunningCommandApp;
  let verifier: RunningVerifierApp;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let client: VerifyClient;
  let api: ReturnType<typeof apiClient>;
  let billingKey: string;
  let accountId: number;

  const createProxyKey = async (body: Record<string, unknown> = { name: 'Production' }) => {
    const res = await api.post('/api/keys', body);
    expect(res.status).toBe(201);
    return res.body as { id: number; key: string; name: string; prefix: string; expiresAt: string | null };
  };
  /** Polls until the verifier answers `code` (a fresh key may take a few ms to reach it). */
  const eventually = (key: string, scope: 'proxy' | 'billing', code: string, timeoutMs = 5000) =>
    waitFor(async () => {
      const answer = await client.verify(key, scope);
      return answer.code === code ? answer : null;
    }, { timeoutMs, intervalMs: 5 });

  beforeAll(async () => {
    ctx = await createTestContext();
    // No sweep (the fixture's default): EXPIRED must come from expiresAt at request time, not from KeyExpired.
    ({ command, store, verifier, billingKey, accountId, api } = await startCommandWithVerifier(ctx));
    client = await verifyClient(ctx);
  });
  afterAll(async () => {
    await client?.close();
    await verifier?.close();
    await command?.close();
    await store?.close();
    await ctx?.dispose();
  });

  it('VALID: answers with the key object exactly as docs/verification.md', async () => {
    const created = await createProxyKey({ name: 'Production' });
    const answer = await eventually(created.key, 'proxy', 'VALID');
    expect(answer).toEqual({
      valid: true,
      code: 'VALID',
      status: 200,
      key: { id: created.id, accountId, type: 'proxy', name: 'Production', prefix: created.key.slice(0, 8), expiresAt: null },
    });
    expect(Object.keys(answer)).toEqual(['valid', 'code', 'status', 'key']);
    expect(Object.keys(answer.key)).toEqual(['id', 'accountId', 'type', 'name', 'prefix', 'expiresAt']);
  });

  it('VALID for a billing key asked for as billing, WRONG_TYPE (403) across types', async () => {
    expect((await client.verify(billingKey, 'billing')).code).toBe('VALID');
    expect(await client.verify(billingKey, 'proxy')).toEqual({ valid: false, code: 'WRONG_TYPE', status: 403 });
    const proxy = await createProxyKey();
    expect(await eventually(proxy.key, 'billing', 'WRONG_TYPE')).toEqual({ valid: false, code: 'WRONG_TYPE', status: 403 });
  });

  it('MALFORMED (401) for a wrong prefix, length, alphabet or checksum', async () => {
    const { key } = generateKey('proxy');
    const lastChar = key[key.length - 1];
    const badChecksum = key.slice(0, -1) + (lastChar === 'a' ? 'b' : 'a');
    for (const bad of ['xx-' + key.slice(3), key.slice(0, -1), key + 'a', key.slice(0, 10) + '!' + key.slice(11), badChecksum, '']) {
      expect(await client.verify(bad, 'proxy')).toEqual({ valid: false, code: 'MALFORMED', status: 401 });
    }
  });

  it('NOT_FOUND (401) for a well-formed key that was never issued', async () => {
    expect(await client.verify(generateKey('proxy').key, 'proxy')).toEqual({ valid: false, code: 'NOT_FOUND', status: 401 });
  });

  it('INACTIVE (403) within a second of the deactivation returning, and VALID again after reactivation', async () => {
    const created = await createProxyKey();
    await eventually(created.key, 'proxy', 'VALID');
    expect((await api.put(`/api/keys/${created.id}`, { active: false })).status).toBe(200);
    expect(await eventually(created.key, 'proxy', 'INACTIVE', 1000)).toEqual({ valid: false, code: 'INACTIVE', status: 403 });
    expect((await api.put(`/api/keys/${created.id}`, { active: true })).status).toBe(200);
    await eventually(created.key, 'proxy', 'VALID', 1000);
  });

  it('DELETED (401) within a second of DELETE returning', async () => {
    const created = await createProxyKey();
    await eventually(created.key, 'proxy', 'VALID');
    expect((await api.delete(`/api/keys/${created.id}`)).status).toBe(200);
    expect(await eventually(created.key, 'proxy', 'DELETED', 1000)).toEqual({ valid: false, code: 'DELETED', status: 401 });
  });

  it('EXPIRED (401) judged from expiresAt at request time, before any KeyExpired', async () => {
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const created = await createProxyKey({ name: 'Short-lived', expires_at: expiresAt });
    const valid = await eventually(created.key, 'proxy', 'VALID');
    expect(valid.key.expiresAt).toBe(expiresAt);
    const expired = await eventually(created.key, 'proxy', 'EXPIRED', 5000);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    expect(expired).toEqual({ valid: false, code: 'EXPIRED', status: 401 });
    const events = await readStream(store.db as never, `key-${created.id}`);
    expect(events.map((e) => e.type)).not.toContain('KeyExpired');
  });

  it('BAD_REQUEST (400) for empty, non-JSON, huge and ill-typed requests, and keeps serving', async () => {
    const badRequest = { valid: false, code: 'BAD_REQUEST', status: 400 };
    const requests: unknown[] = [
      new Uint8Array(0),
      'ms-not-json',
      '{"key":',
      'null',
      '[]',
      '"ms-abc"',
      { key: 42, scope: 'proxy' },
      { key: 'ms-abc' },
      { key: 'ms-abc', scope: 'admin' },
      { key: 'ms-abc', scope: 'proxy', extra: true },
      { key: 'ms-' + 'A'.repeat(200_000), scope: 'proxy' },
      new Uint8Array([0xff, 0xfe, 0x00, 0x7b]),
    ];
    for (const body of requests) {
      expect(await client.request(body)).toEqual(badRequest);
    }
    const created = await createProxyKey();
    expect((await eventually(created.key, 'proxy', 'VALID')).valid).toBe(true);
  });

  it('answers a plain JSON string, as `nats req keys.v1.verify \'{...}\'` sends it', async () => {
    const created = await createProxyKey({ name: 'cli' });
    await eventually(created.key, 'proxy', 'VALID');
    const answer = await client.request(`{"key":"${created.key}","scope":"proxy"}`);
    expect(answer.key.name).toBe('cli');
  });

  it('billing keys authenticate the command through the verifier: a deleted billing key is refused at once', async () => {
    const second = await apiClient(command.baseUrl, billingKey).post('/api/billing-keys', { name: 'second' });
    expect(second.status).toBe(201);
    const secondApi = apiClient(command.baseUrl, second.body.key);
    expect((await secondApi.get('/api/keys')).status).not.toBe(401);
    expect((await api.delete(`/api/billing-keys/${second.body.id}`)).status).toBe(200);
    expect(await eventually(second.body.key, 'billing', 'DELETED', 1000)).toEqual({ valid: false, code: 'DELETED', status: 401 });
    const refused = await secondApi.post('/api/keys', { name: 'x' });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('invalid_api_key');
  });

  it('reports ready and exposes the metrics', async () => {
    const ready = await fetch(`${verifier.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${verifier.baseUrl}/metrics`)).text();
    for (const name of ['keys_verifications_total{code="VALID"}', 'keys_verifications_total{code="BAD_REQUEST"}', 'keys_verify_duration_seconds_bucket', 'keys_verifier_index_size', 'keys_verifier_events_applied_total', 'keys_follower_lag_events']) {
      expect(metrics).toContain(name);
    }
  });
});
