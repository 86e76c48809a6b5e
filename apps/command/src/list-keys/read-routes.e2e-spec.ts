import type { INestApplication } from '@nestjs/common';
import { createTestContext, type TestContext } from '@keys/testing';
import { createProjectorApp } from '../../../projector/src/main';
import { readProjectorConfig } from '../../../projector/src/projector.config';
import { apiClient, openKeyService, operator, startCommandApp, type RunningCommandApp } from '../../../../test/fixtures/command-app.fixture';

// Reads over real HTTP against the read models, with the real relay → JetStream → projector pipeline
// behind them: nothing here waits for the projection except the read path itself.
/** A key never revoked and never verified. */
const NOT_REVOKED = { revokedAt: null, revokedReason: null, revokedFoundAt: null, lastUsedAt: null };

describe('read routes (keys, billing keys, security log) with read-your-writes', () => {
  let ctx: TestContext;
  let command: RunningCommandApp;
  let projector: INestApplication;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let acme: ReturnType<typeof apiClient>;
  let other: ReturnType<typeof apiClient>;
  let acmeBillingId: number;

  beforeAll(async () => {
    ctx = await createTestContext();
    command = await startCommandApp(ctx);
    projector = await createProjectorApp(
      readProjectorConfig({ DATABASE_URL: ctx.databaseUrl, NATS_URL: ctx.natsUrl, KEYS_STREAM: ctx.streamName, KEYS_SUBJECT_PREFIX: ctx.subjectPrefix }),
      { quiet: true },
    );
    await projector.init();
    store = await openKeyService(ctx);
    const a = await store.keys.createAccount('Acme', operator);
    const b = await store.keys.createAccount('Other', operator);
    acmeBillingId = a.billingKey.state.keyId;
    acme = apiClient(command.baseUrl, a.billingKey.key);
    other = apiClient(command.baseUrl, b.billingKey.key);
  });
  afterAll(async () => {
    await command?.close();
    await projector?.close();
    await store?.close();
    await ctx?.dispose();
  });

  it('sees its own write on the very next read, every time', async () => {
    for (let i = 0; i < 15; i++) {
      const created = await acme.post('/api/keys', { name: `Key ${i}` });
      expect(created.status).toBe(201);
      const got = await acme.get(`/api/keys/${created.body.id}`);
      expect(got.status).toBe(200);
      expect(got.headers.get('x-keys-stale')).toBeNull();
      expect(got.body).toEqual({ id: created.body.id, name: `Key ${i}`, prefix: created.body.prefix, active: true, createdAt: created.body.createdAt, expiresAt: null, ...NOT_REVOKED });

      expect((await acme.put(`/api/keys/${created.body.id}`, { name: `Renamed ${i}`, active: false })).status).toBe(200);
      const listed = await acme.get('/api/keys');
      expect(listed.body.keys).toContainEqual(expect.objectContaining({ id: created.body.id, name: `Renamed ${i}`, active: false }));
      const log = await acme.get('/api/security-log?limit=2');
      expect(log.body.logs.map((l: { action: string }) => l.action)).toEqual(['key_deactivated', 'key_renamed']);

      expect((await acme.delete(`/api/keys/${created.body.id}`)).status).toBe(200);
      expect((await acme.get(`/api/keys/${created.body.id}`)).status).toBe(404);
    }
  });

  it('lists proxy keys on /api/keys and billing keys on /api/billing-keys, never deleted ones', async () => {
    const proxy = await acme.post('/api/keys', { name: 'Proxy', expires_at: new Date(Date.now() + 86_400_000).toISOString() });
    const billing = await acme.post('/api/billing-keys', { name: 'Second billing' });
    const keys = (await acme.get('/api/keys')).body.keys;
    expect(keys).toContainEqual({ id: proxy.body.id, name: 'Proxy', prefix: proxy.body.prefix, active: true, createdAt: proxy.body.createdAt, expiresAt: proxy.body.expiresAt, ...NOT_REVOKED });
    expect(keys.every((k: { prefix: string }) => k.prefix.startsWith('ms-'))).toBe(true);
    expect(keys.some((k: { name: string }) => k.name.startsWith('Renamed'))).toBe(false); // all deleted above
    const billingKeys = (await acme.get('/api/billing-keys')).body.keys;
    expect(billingKeys.map((k: { id: number }) => k.id)).toEqual([acmeBillingId, billing.body.id]);
    expect((await acme.get(`/api/billing-keys/${billing.body.id}`)).body).toMatchObject({ id: billing.body.id, name: 'Second billing', active: true });
    // The route's type scopes the id: a billing key is not found under /api/keys and vice versa.
    expect((await acme.get(`/api/keys/${billing.body.id}`)).status).toBe(404);
    expect((await acme.get(`/api/billing-keys/${proxy.body.id}`)).status).toBe(404);
  });

  it('answers 404 key_not_found for another account\'s key and 400 for a malformed id', async () => {
    const mine = await acme.post('/api/keys', { name: 'Mine' });
    const res = await other.get(`/api/keys/${mine.body.id}`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { message: expect.any(String), type: 'not_found_error', code: 'key_not_found' } });
    expect((await other.get('/api/keys')).body.keys).toEqual([]);
    expect((await acme.get('/api/keys/999999')).status).toBe(404);
    expect((await acme.get('/api/keys/abc')).body.error).toMatchObject({ code: 'validation_failed', param: 'id' });
  });

  it('pages the security log newest first with before, only the caller\'s account', async () => {
    for (let i = 0; i < 4; i++) await other.post('/api/keys', { name: `Other ${i}` });
    const all = (await other.get('/api/security-log')).body.logs;
    expect(all.map((l: { action: string }) => l.action)).toEqual(['key_created', 'key_created', 'key_created', 'key_created', 'key_created']);
    expect(all[0]).toEqual({
      id: expect.any(Number),
      action: 'key_created',
      ipAddress: expect.any(String),
      createdAt: expect.any(String),
      details: { keyId: expect.any(Number), keyType: 'proxy', name: 'Other 3', prefix: expect.stringMatching(/^ms-/), actor: { type: 'billing_key', keyId: expect.any(Number), accountId: expect.any(Number) } },
    });
    const ids = all.map((l: { id: number }) => l.id);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);

    const pages: number[] = [];
    let before: number | undefined;
    for (;;) {
      const page = (await other.get(`/api/security-log?limit=2${before ? `&before=${before}` : ''}`)).body.logs as { id: number }[];
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(2);
      pages.push(...page.map((l) => l.id));
      before = page[page.length - 1].id;
    }
    expect(pages).toEqual(ids);
    const acmeIds = (await acme.get('/api/security-log')).body.logs.map((l: { id: number }) => l.id);
    expect(acmeIds.filter((id: number) => ids.includes(id))).toEqual([]);
    expect(acmeIds).toHaveLength(50); // acme has more than 50 entries; the default limit is the maximum
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=51', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=-1', 'limit'],
    ['before=0', 'before'],
    ['before=x', 'before'],
  ])('refuses %s with 400 naming %s', async (query, param) => {
    const res = await acme.get(`/api/security-log?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'validation_failed', param });
  });

  it.each(['/api/keys', '/api/billing-keys', '/api/keys/1', '/api/security-log'])('guards %s: 401 without a key, 403 for a proxy key or a deactivated billing key', async (path) => {
    expect((await apiClient(command.baseUrl).get(path)).body.error).toMatchObject({ code: 'invalid_api_key' });
    expect((await apiClient(command.baseUrl, 'mk-not-a-real-key').get(path)).status).toBe(401);
    const proxy = await acme.post('/api/keys', { name: 'Proxy for auth' });
    const asProxy = await apiClient(command.baseUrl, proxy.body.key).get(path);
    expect(asProxy.status).toBe(403);
    expect(asProxy.body.error.code).toBe('wrong_key_type');
    const spare = await acme.post('/api/billing-keys', { name: 'Spare' });
    await acme.put(`/api/billing-keys/${spare.body.id}`, { active: false });
    const asInactive = await apiClient(command.baseUrl, spare.body.key).get(path);
    expect(asInactive.status).toBe(403);
    expect(asInactive.body.error.code).toBe('key_inactive');
  });

  it('does not wait for an X-Keys-Min-Position beyond the store head: it counts as the head, the answer is not stale', async () => {
    const res = await acme.get('/api/keys', { 'X-Keys-Min-Position': '999999999' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-keys-stale')).toBeNull();
    expect((await acme.get('/api/keys', { 'X-Keys-Min-Position': 'soon' })).body.error).toMatchObject({ code: 'validation_failed', param: 'X-Keys-Min-Position' });
  });
});
