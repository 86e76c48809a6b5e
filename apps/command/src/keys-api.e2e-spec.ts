import { readStream } from '@keys/event-store';
import { createTestContext, type TestContext } from '@keys/testing';
import { apiClient, openKeyService, operator, startCommandApp, type RunningCommandApp } from '../../../test/fixtures/command-app.fixture';

// Every write route and every error row of docs/api.md, over real HTTP against real Postgres and NATS.

const errorBody = (status: number, type: string, code: string) => ({ status, body: { error: expect.objectContaining({ type, code, message: expect.any(String) }) } });

describe('command HTTP API', () => {
  let ctx: TestContext;
  let running: RunningCommandApp;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let billingKey: string;
  let billingKeyId: number;
  let accountId: number;
  let api: ReturnType<typeof apiClient>;

  const events = async (keyId: number) => readStream(store.db as never, `key-${keyId}`);
  const createProxyKey = async (body: Record<string, unknown> = { name: 'Production' }) => {
    const res = await api.post('/api/keys', body);
    expect(res.status).toBe(201);
    return res.body as { id: number; key: string; name: string; prefix: string; active: boolean; createdAt: string; expiresAt: string | null };
  };

  beforeAll(async () => {
    ctx = await createTestContext();
    running = await startCommandApp(ctx);
    store = await openKeyService(ctx);
    const account = await store.keys.createAccount('Acme', operator);
    billingKey = account.billingKey.key;
    billingKeyId = account.billingKey.state.keyId;
    accountId = account.accountId;
    api = apiClient(running.baseUrl, billingKey);
  });
  afterAll(async () => {
    await running?.close();
    await store?.close();
    await ctx?.dispose();
  });

  describe('POST /api/keys', () => {
    it('answers 201 with the key object and the full key, once', async () => {
      const res = await api.post('/api/keys', { name: '  Production  ' });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(Number),
        key: expect.stringMatching(/^ms-[0-9A-Za-z]{49}$/),
        name: 'Production',
        prefix: res.body.key.slice(0, 8),
        active: true,
        createdAt: expect.any(String),
        expiresAt: null,
        lastUsedAt: null,
      });
      expect(Number(res.headers.get('x-keys-position'))).toBeGreaterThan(0);
      const stored = await events(res.body.id);
      expect(stored.map((e) => e.type)).toEqual(['KeyCreated']);
      expect(JSON.stringify(stored)).not.toContain(res.body.key);
    });

    it('accepts expires_at and expiresAt in the future', async () => {
      const future = new Date(Date.now() + 3_600_000).toISOString();
      expect((await createProxyKey({ name: 'a', expires_at: future })).expiresAt).toBe(future);
      expect((await createProxyKey({ name: 'b', expiresAt: future })).expiresAt).toBe(future);
    });

    it.each([
      ['a missing name', {}, 'name'],
      ['an empty name', { name: '   ' }, 'name'],
      ['a name over 100 characters', { name: 'x'.repeat(101) }, 'name'],
      ['a name that is not a string', { name: 42 }, 'name'],
      ['an unknown field', { name: 'x', colour: 'red' }, 'colour'],
      ['an expiry in the past', { name: 'x', expires_at: '2000-01-01T00:00:00Z' }, 'expires_at'],
      ['an expiry that is not ISO-8601', { name: 'x', expires_at: 'tomorrow' }, 'expires_at'],
      ['two different expiries', { name: 'x', expires_at: '2999-01-01T00:00:00Z', expiresAt: '2998-01-01T00:00:00Z' }, 'expires_at'],
    ])('refuses %s with 400 naming the field', async (_label, body, param) => {
      const res = await api.post('/api/keys', body);
      expect(res).toMatchObject(errorBody(400, 'invalid_request_error', 'validation_failed'));
      expect(res.body.error.param).toBe(param);
    });

    it('refuses bad JSON with 400, a non-JSON body with 415, an array with 400, and 16 KiB+ with 413', async () => {
      expect(await api.post('/api/keys', '{"name":')).toMatchObject(errorBody(400, 'invalid_request_error', 'validation_failed'));
      expect(await api.post('/api/keys', 'name=x', { 'content-type': 'text/plain' })).toMatchObject(
        errorBody(415, 'invalid_request_error', 'unsupported_media_type'),
      );
      expect(await api.post('/api/keys', [{ name: 'x' }])).toMatchObject(errorBody(400, 'invalid_request_error', 'validation_failed'));
      expect(await api.post('/api/keys', { name: 'x', pad: 'y'.repeat(17 * 1024) })).toMatchObject(
        errorBody(413, 'invalid_request_error', 'payload_too_large'),
      );
    });
  });

  describe('PUT and PATCH /api/keys/{id}', () => {
    it('renames, deactivates, reactivates and sets or clears the expiry, answering the key after the change', async () => {
      const key = await createProxyKey();
      const renamed = await api.put(`/api/keys/${key.id}`, { name: 'Staging' });
      expect(renamed).toMatchObject({ status: 200, body: { id: key.id, name: 'Staging', prefix: key.prefix, active: true, expiresAt: null } });
      expect(renamed.body.key).toBeUndefined();
      expect((await api.patch(`/api/keys/${key.id}`, { active: false })).body.active).toBe(false);
      expect((await api.patch(`/api/keys/${key.id}`, { active: true })).body.active).toBe(true);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      expect((await api.put(`/api/keys/${key.id}`, { expires_at: future })).body.expiresAt).toBe(future);
      expect((await api.put(`/api/keys/${key.id}`, { expires_at: null })).body.expiresAt).toBeNull();
      expect((await events(key.id)).map((e) => e.type)).toEqual([
        'KeyCreated',
        'KeyRenamed',
        'KeyDeactivated',
        'KeyReactivated',
        'KeyExpirySet',
        'KeyExpirySet',
      ]);
    });

    it('applies several fields in one atomic change and decides nothing for a no-op', async () => {
      const key = await createProxyKey();
      const res = await api.put(`/api/keys/${key.id}`, { name: 'Both', active: false });
      expect(res.body).toMatchObject({ name: 'Both', active: false });
      const before = await events(key.id);
      expect((await api.put(`/api/keys/${key.id}`, { name: 'Both', active: false })).status).toBe(200);
      expect(await events(key.id)).toHaveLength(before.length);
      expect(new Set(before.slice(1).map((e) => e.position)).size).toBe(2);
    });

    it('refuses an invalid change with 400 and writes nothing', async () => {
      const key = await createProxyKey();
      expect(await api.put(`/api/keys/${key.id}`, { active: 'yes' })).toMatchObject(errorBody(400, 'invalid_request_error', 'validation_failed'));
      expect(await api.put(`/api/keys/${key.id}`, { name: '' })).toMatchObject(errorBody(400, 'invalid_request_error', 'validation_failed'));
      expect(await api.put(`/api/keys/${key.id}`, { expires_at: '2001-01-01T00:00:00Z' })).toMatchObject(
        errorBody(400, 'invalid_request_error', 'validation_failed'),
      );
      expect(await events(key.id)).toHaveLength(1);
    });

    it.each(['abc', '0', '-1', '1.5', '99999999999999999999'])('answers 400 for the id %s, never 500', async (id) => {
      const res = await api.put(`/api/keys/${id}`, { name: 'x' });
      expect(res).toMatchObject(errorBody(400, 'invalid_request_error', 'validation_failed'));
      expect(res.body.error.param).toBe('id');
    });

    it('answers 404 for a missing key and for a key of another account alike', async () => {
      const other = await store.keys.createAccount('Other', operator);
      const foreign = await store.keys.createKey({ accountId: other.accountId, keyType: 'proxy', name: 'theirs', expiresAt: null }, operator);
      const missing = await api.put('/api/keys/987654', { name: 'x' });
      const theirs = await api.put(`/api/keys/${foreign.state.keyId}`, { name: 'x' });
      expect(missing).toMatchObject(errorBody(404, 'not_found_error', 'key_not_found'));
      expect({ status: theirs.status, body: theirs.body }).toEqual({ status: missing.status, body: missing.body });
      expect(await api.delete(`/api/keys/${foreign.state.keyId}`)).toMatchObject(errorBody(404, 'not_found_error', 'key_not_found'));
      expect(await events(foreign.state.keyId)).toHaveLength(1);
    });

    it('answers 404 when a billing key id is used on /api/keys', async () => {
      expect(await api.put(`/api/keys/${billingKeyId}`, { name: 'x' })).toMatchObject(errorBody(404, 'not_found_error', 'key_not_found'));
    });

    it('refuses to reactivate or re-expire an expired key with 409 key_expired', async () => {
      const key = await createProxyKey({ name: 'short', expires_at: new Date(Date.now() + 300).toISOString() });
      await new Promise((r) => setTimeout(r, 400));
      expect(await api.put(`/api/keys/${key.id}`, { active: true })).toMatchObject(errorBody(409, 'conflict_error', 'key_expired'));
      expect(await api.put(`/api/keys/${key.id}`, { expires_at: new Date(Date.now() + 3_600_000).toISOString() })).toMatchObject(
        errorBody(409, 'conflict_error', 'key_expired'),
      );
    });
  });

  describe('DELETE /api/keys/{id}', () => {
    it('answers {id, deleted: true}, then 409 key_deleted for any further change', async () => {
      const key = await createProxyKey();
      expect(await api.delete(`/api/keys/${key.id}`)).toMatchObject({ status: 200, body: { id: key.id, deleted: true } });
      expect(await api.delete(`/api/keys/${key.id}`)).toMatchObject(errorBody(409, 'conflict_error', 'key_deleted'));
      expect(await api.put(`/api/keys/${key.id}`, { name: 'again' })).toMatchObject(errorBody(409, 'conflict_error', 'key_deleted'));
      expect(await api.post(`/api/keys/${key.id}/roll`, {})).toMatchObject(errorBody(409, 'conflict_error', 'key_deleted'));
      expect((await events(key.id)).map((e) => e.type)).toEqual(['KeyCreated', 'KeyDeleted']);
    });
  });

  describe('POST /api/keys/{id}/roll', () => {
    it('issues a new key with the same name and gives the old one the default 24 h overlap', async () => {
      const old = await createProxyKey({ name: 'Rotating' });
      const before = Date.now();
      const res = await api.post(`/api/keys/${old.id}/roll`);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ name: 'Rotating', active: true, expiresAt: null, key: expect.stringMatching(/^ms-/) });
      expect(res.body.id).not.toBe(old.id);
      const oldEvents = await events(old.id);
      expect(oldEvents.map((e) => e.type)).toEqual(['KeyCreated', 'KeyExpirySet']);
      const expiresAt = Date.parse((oldEvents[1].data as { expiresAt: string }).expiresAt);
      expect(expiresAt).toBeGreaterThanOrEqual(before + 86_400_000 - 1000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 86_400_000 + 1000);
    });

    it('expires the old key at once with expires_in_seconds 0', async () => {
      const old = await createProxyKey({ name: 'Now' });
      expect((await api.post(`/api/keys/${old.id}/roll`, { expires_in_seconds: 0 })).status).toBe(201);
      expect((await events(old.id)).map((e) => e.type)).toEqual(['KeyCreated', 'KeyExpirySet', 'KeyExpired']);
    });

    it('never extends the old key beyond its own expiry', async () => {
      const own = new Date(Date.now() + 60_000).toISOString();
      const old = await createProxyKey({ name: 'Soon', expires_at: own });
      expect((await api.post(`/api/keys/${old.id}/roll`, { expires_in_seconds: 3600 })).status).toBe(201);
      expect((await events(old.id)).map((e) => e.type)).toEqual(['KeyCreated']);
    });

    it('validates expires_in_seconds', async () => {
      const old = await createProxyKey();
      for (const value of [-1, 1.5, 'soon']) {
        expect(await api.post(`/api/keys/${old.id}/roll`, { expires_in_seconds: value })).toMatchObject(
          errorBody(400, 'invalid_request_error', 'validation_failed'),
        );
      }
    });
  });

  describe('billing keys', () => {
    it('creates, updates and deletes billing keys, but never the last active one', async () => {
      const account = await store.keys.createAccount('Billing Co', operator);
      const own = apiClient(running.baseUrl, account.billingKey.key);
      const firstId = account.billingKey.state.keyId;
      expect(await own.delete(`/api/billing-keys/${firstId}`)).toMatchObject(errorBody(409, 'conflict_error', 'last_billing_key'));
      expect(await own.put(`/api/billing-keys/${firstId}`, { active: false })).toMatchObject(errorBody(409, 'conflict_error', 'last_billing_key'));
      const second = await own.post('/api/billing-keys', { name: 'Second' });
      expect(second).toMatchObject({ status: 201, body: { key: expect.stringMatching(/^mk-/), name: 'Second' } });
      expect((await own.put(`/api/billing-keys/${second.body.id}`, { name: 'Renamed' })).body.name).toBe('Renamed');
      expect(await own.delete(`/api/billing-keys/${firstId}`)).toMatchObject({ status: 200, body: { id: firstId, deleted: true } });
      const viaSecond = apiClient(running.baseUrl, second.body.key);
      expect(await viaSecond.delete(`/api/billing-keys/${second.body.id}`)).toMatchObject(errorBody(409, 'conflict_error', 'last_billing_key'));
      expect(await viaSecond.delete(`/api/keys/${second.body.id}`)).toMatchObject(errorBody(404, 'not_found_error', 'key_not_found'));
    });
  });

  describe('authentication', () => {
    it.each([
      ['no Authorization header', undefined],
      ['a malformed header', 'Basic abc'],
      ['a malformed key', 'Bearer mk-not-a-key'],
    ])('answers 401 invalid_api_key for %s', async (_label, header) => {
      const res = await apiClient(running.baseUrl).post('/api/keys', { name: 'x' }, header ? { authorization: header } : {});
      expect(res).toMatchObject(errorBody(401, 'authentication_error', 'invalid_api_key'));
    });

    it('answers 401 for an unknown well-formed key and for a deleted key, 401 expired_api_key for an expired one', async () => {
      const { generateKey } = await import('@keys/key-material');
      expect(await apiClient(running.baseUrl, generateKey('billing').key).post('/api/keys', { name: 'x' })).toMatchObject(
        errorBody(401, 'authentication_error', 'invalid_api_key'),
      );
      const spare = await api.post('/api/billing-keys', { name: 'spare' });
      await api.delete(`/api/billing-keys/${spare.body.id}`);
      expect(await apiClient(running.baseUrl, spare.body.key).post('/api/keys', { name: 'x' })).toMatchObject(
        errorBody(401, 'authentication_error', 'invalid_api_key'),
      );
      const shortLived = await api.post('/api/billing-keys', { name: 'short', expires_at: new Date(Date.now() + 300).toISOString() });
      await new Promise((r) => setTimeout(r, 400));
      expect(await apiClient(running.baseUrl, shortLived.body.key).post('/api/keys', { name: 'x' })).toMatchObject(
        errorBody(401, 'authentication_error', 'expired_api_key'),
      );
    });

    it('answers 403 key_inactive for a deactivated billing key and 403 wrong_key_type for a proxy key', async () => {
      const spare = await api.post('/api/billing-keys', { name: 'paused' });
      await api.put(`/api/billing-keys/${spare.body.id}`, { active: false });
      expect(await apiClient(running.baseUrl, spare.body.key).post('/api/keys', { name: 'x' })).toMatchObject(
        errorBody(403, 'permission_error', 'key_inactive'),
      );
      const proxy = await createProxyKey();
      expect(await apiClient(running.baseUrl, proxy.key).post('/api/keys', { name: 'x' })).toMatchObject(
        errorBody(403, 'permission_error', 'wrong_key_type'),
      );
    });

    it('never echoes the presented key in an error', async () => {
      const proxy = await createProxyKey();
      const res = await apiClient(running.baseUrl, proxy.key).delete(`/api/keys/${proxy.id}`);
      expect(JSON.stringify(res.body)).not.toContain(proxy.key);
    });
  });

  describe('event metadata', () => {
    it('records the acting billing key, client IP, user agent and correlation id, echoing X-Request-Id', async () => {
      const res = await api.post('/api/keys', { name: 'traced' }, { 'user-agent': 'meta-test/1.0', 'x-request-id': 'req-123', 'x-forwarded-for': '203.0.113.9' });
      expect(res.headers.get('x-request-id')).toBe('req-123');
      const [created] = await events(res.body.id);
      expect(created.metadata).toEqual({
        actor: { type: 'billing_key', keyId: billingKeyId, accountId },
        ipAddress: expect.stringMatching(/127\.0\.0\.1/),
        userAgent: 'meta-test/1.0',
        correlationId: 'req-123',
      });
    });

    it('generates a correlation id when none is sent', async () => {
      const res = await api.post('/api/keys', { name: 'untraced' });
      const id = res.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect((await events(res.body.id))[0].metadata.correlationId).toBe(id);
    });
  });

  describe('GET /docs', () => {
    it('serves the OpenAPI document of every route, with bearer auth, and its UI', async () => {
      const doc = await apiClient(running.baseUrl).get('/docs/openapi.json');
      expect(doc.status).toBe(200);
      expect(Object.keys(doc.body.paths)).toEqual(
        expect.arrayContaining(['/api/keys', '/api/keys/{id}', '/api/keys/{id}/roll', '/api/billing-keys', '/api/billing-keys/{id}', '/api/security-log']),
      );
      expect(Object.keys(doc.body.paths['/api/keys/{id}'])).toEqual(expect.arrayContaining(['get', 'put', 'patch', 'delete']));
      expect(doc.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(doc.body.components.schemas.CreateKeyDto.required).toEqual(['name']);
      const ui = await fetch(`${running.baseUrl}/docs`);
      expect(ui.status).toBe(200);
      expect(ui.headers.get('content-type')).toContain('text/html');
    });
  });

  describe('no request produces a 500', () => {
    it('answers every malformed request in the error shape', async () => {
      const raw = apiClient(running.baseUrl, billingKey);
      const cases: Array<[string, string, unknown, Record<string, string>?]> = [
        ['POST', '/api/keys', 'null'],
        ['POST', '/api/keys', '"string"'],
        ['POST', '/api/keys', '123'],
        ['POST', '/api/keys', '{"name":{"nested":true}}'],
        ['POST', '/api/keys', '{"name":"x","expires_at":12}'],
        ['PUT', '/api/keys/1', '{"active":null}'],
        ['PATCH', '/api/keys/%00', '{}'],
        ['POST', '/api/keys/abc/roll', '{}'],
        ['GET', '/api/nothing-here', undefined],
        ['POST', '/api/keys', '\u0000\u0001', { 'content-type': 'application/json' }],
        ['POST', '/api/keys', '{"name":"x"}', { 'content-type': 'application/json; charset=latin-7' }],
      ];
      for (const [method, path, body, headers] of cases) {
        const res = await raw.call(method, path, body, headers);
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.body).toEqual({ error: expect.objectContaining({ message: expect.any(String), type: expect.any(String), code: expect.any(String) }) });
      }
    });
  });
});
