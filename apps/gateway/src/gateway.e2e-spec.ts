import { generateKey } from '@keys/key-material';
import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { apiClient, openKeyService, type RunningCommandApp } from '../../../test/fixtures/command-app.fixture';
import { startCommandWithVerifier, startGatewayApp, verifyClient, type RunningGatewayApp, type RunningVerifierApp } from '../../../test/fixtures/verifier-app.fixture';

// The reference consumer: proxy keys authenticated through the verifier with libs/auth, errors as docs/api.md.

const errorBody = (type: string, code: string) => ({ error: { type, code, message: expect.any(String) } });

describe('gateway /v1/*', () => {
  let ctx: TestContext;
  let command: RunningCommandApp;
  let verifier: RunningVerifierApp | null = null;
  let gateway: RunningGatewayApp;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let billingKey: string;
  let accountId: number;
  let api: ReturnType<typeof apiClient>;

  const createProxyKey = async (body: Record<string, unknown> = { name: 'Production' }) => {
    const res = await api.post('/api/keys', body);
    expect(res.status).toBe(201);
    return res.body as { id: number; key: string; prefix: string; expiresAt: string | null };
  };
  /** Waits until the verifier knows the key in the state the test just wrote. */
  const settled = async (key: string, code: string) => {
    const client = await verifyClient(ctx);
    try {
      await waitFor(async () => (await client.verify(key, 'proxy')).code === code, { timeoutMs: 5000, intervalMs: 5 });
    } finally {
      await client.close();
    }
  };
  const gatewayAs = (key?: string) => apiClient(gateway.baseUrl, key);

  beforeAll(async () => {
    ctx = await createTestContext();
    ({ command, store, verifier, billingKey, accountId, api } = await startCommandWithVerifier(ctx));
    gateway = await startGatewayApp(ctx);
  });
  afterAll(async () => {
    await gateway?.close();
    await verifier?.close();
    await command?.close();
    await store?.close();
    await ctx?.dispose();
  });

  it('GET /v1/models and /v1/whoami answer a valid proxy key', async () => {
    const created = await createProxyKey({ name: 'Production' });
    await settled(created.key, 'VALID');
    const models = await gatewayAs(created.key).get('/v1/models');
    expect(models.status).toBe(200);
    expect(models.body.data.length).toBeGreaterThan(0);
    expect(models.body.data[0]).toEqual({ id: expect.any(String), object: 'model' });
    const whoami = await gatewayAs(created.key).get('/v1/whoami');
    expect(whoami.status).toBe(200);
    expect(whoami.body).toEqual({ key: { id: created.id, accountId, type: 'proxy', name: 'Production', prefix: created.prefix, expiresAt: null } });
    expect(JSON.stringify(whoami.body)).not.toContain(created.key);
  });

  it('a billing key gets 403 wrong_key_type', async () => {
    const res = await gatewayAs(billingKey).get('/v1/whoami');
    expect(res.status).toBe(403);
    expect(res.body).toEqual(errorBody('permission_error', 'wrong_key_type'));
  });

  it('an inactive key gets 403 key_inactive', async () => {
    const created = await createProxyKey();
    expect((await api.put(`/api/keys/${created.id}`, { active: false })).status).toBe(200);
    await settled(created.key, 'INACTIVE');
    const res = await gatewayAs(created.key).get('/v1/models');
    expect(res.status).toBe(403);
    expect(res.body).toEqual(errorBody('permission_error', 'key_inactive'));
  });

  it('a deleted key gets 401 invalid_api_key', async () => {
    const created = await createProxyKey();
    expect((await api.delete(`/api/keys/${created.id}`)).status).toBe(200);
    await settled(created.key, 'DELETED');
    const res = await gatewayAs(created.key).get('/v1/whoami');
    expect(res.status).toBe(401);
    expect(res.body).toEqual(errorBody('authentication_error', 'invalid_api_key'));
  });

  it('an expired key gets 401 expired_api_key', async () => {
    const created = await createProxyKey({ name: 'short', expires_at: new Date(Date.now() + 1000).toISOString() });
    await settled(created.key, 'EXPIRED');
    const res = await gatewayAs(created.key).get('/v1/whoami');
    expect(res.status).toBe(401);
    expect(res.body).toEqual(errorBody('authentication_error', 'expired_api_key'));
  });

  it.each<[string, string | undefined]>([
    ['an unknown key', generateKey('proxy').key],
    ['a malformed key', 'ms-' + 'A'.repeat(49)],
    ['no Authorization header', undefined],
  ])('%s gets 401 invalid_api_key', async (_name, key) => {
    const res = await gatewayAs(key).get('/v1/models');
    expect(res.status).toBe(401);
    expect(res.body).toEqual(errorBody('authentication_error', 'invalid_api_key'));
  });

  it('with no verifier running, answers 503 unavailable (not 401)', async () => {
    const created = await createProxyKey();
    await settled(created.key, 'VALID');
    await verifier?.close();
    verifier = null;
    const res = await gatewayAs(created.key).get('/v1/whoami');
    expect(res.status).toBe(503);
    expect(res.body).toEqual(errorBody('api_error', 'unavailable'));
  });
});
