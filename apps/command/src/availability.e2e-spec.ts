import { createTestContext, waitFor, type TestContext } from '@keys/testing';
import { apiClient, openKeyService, operator, startCommandApp } from '../../../test/fixtures/command-app.fixture';
import { TcpProxy } from '../../../test/fixtures/tcp-proxy.fixture';

describe('availability', () => {
  let ctx: TestContext;
  let store: Awaited<ReturnType<typeof openKeyService>>;

  beforeAll(async () => {
    ctx = await createTestContext();
    store = await openKeyService(ctx);
  });
  afterAll(async () => {
    await store?.close();
    await ctx?.dispose();
  });

  it('answers 503 unavailable while Postgres is away, writes nothing half, and recovers by itself', async () => {
    const pg = TcpProxy.forUrl(ctx.databaseUrl);
    await pg.start();
    const app = await startCommandApp(ctx, { databaseUrl: pg.rewrite(ctx.databaseUrl) });
    try {
      const { billingKey } = await store.keys.createAccount('Flaky', operator);
      const api = apiClient(app.baseUrl, billingKey.key);
      expect((await api.get('/health/ready')).status).toBe(200);

      await pg.cut();
      const ready = await api.get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ error: { type: 'api_error', code: 'unavailable' }, checks: { postgres: { ok: false } } });
      const write = await api.post('/api/keys', { name: 'during outage' });
      expect(write.status).toBe(503);
      expect(write.body).toEqual({ error: { type: 'api_error', code: 'unavailable', message: expect.any(String) } });

      await pg.restore();
      await waitFor(async () => (await api.get('/health/ready')).status === 200, { timeoutMs: 15_000, intervalMs: 200 });
      const after = await waitFor(async () => {
        const res = await api.post('/api/keys', { name: 'after outage' });
        return res.status === 201 ? res : null;
      }, { timeoutMs: 15_000, intervalMs: 200 });
      expect(after.body.name).toBe('after outage');
      const names = await store.db.selectFrom('key_lookup').select('name').where('key_type', '=', 'proxy').execute();
      expect(names.map((r) => r.name)).toEqual(['after outage']);
    } finally {
      await app.close();
      await pg.cut();
    }
  });

  it('takes the client IP from X-Forwarded-For only when TRUST_PROXY is set', async () => {
    const app = await startCommandApp(ctx, { trustProxy: true });
    try {
      const { billingKey } = await store.keys.createAccount('Behind a proxy', operator);
      const res = await apiClient(app.baseUrl, billingKey.key).post('/api/keys', { name: 'forwarded' }, { 'x-forwarded-for': '203.0.113.9' });
      const { readStream } = await import('@keys/event-store');
      const [created] = await readStream(store.db as never, `key-${res.body.id}`);
      expect(created.metadata.ipAddress).toBe('203.0.113.9');
    } finally {
      await app.close();
    }
  });

  it('answers 429 rate_limited with Retry-After once a billing key exceeds its rate, per key', async () => {
    const app = await startCommandApp(ctx, { rateLimitPerSecond: 1, rateLimitBurst: 3 });
    try {
      const first = await store.keys.createAccount('Eager', operator);
      const second = await store.keys.createAccount('Calm', operator);
      const eager = apiClient(app.baseUrl, first.billingKey.key);
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await eager.post('/api/keys', { name: `k${i}` })).status);
      expect(statuses).toEqual([201, 201, 201]);
      // The bucket refills at 1/s, so on a slow machine one more request may still pass; a few cannot.
      let created = 3;
      let limited = await eager.post('/api/keys', { name: 'one more' });
      for (let i = 0; i < 5 && limited.status === 201; i++) {
        created += 1;
        limited = await eager.post('/api/keys', { name: 'one more' });
      }
      expect(limited.status).toBe(429);
      expect(limited.body).toEqual({ error: { type: 'invalid_request_error', code: 'rate_limited', message: expect.any(String) } });
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Nothing was written for the refused request, and another key is not affected.
      const rows = await store.db.selectFrom('key_lookup').select('key_id').where('account_id', '=', first.accountId).where('key_type', '=', 'proxy').execute();
      expect(rows).toHaveLength(created);
      expect((await apiClient(app.baseUrl, second.billingKey.key).post('/api/keys', { name: 'calm' })).status).toBe(201);
    } finally {
      await app.close();
    }
  });
});
