import { createTestContext, type TestContext } from '@keys/testing';
import { readStream } from '@keys/event-store';
import { apiClient, openKeyService, operator, startCommandApp, type RunningCommandApp } from '../../../test/fixtures/command-app.fixture';

describe('command HTTP API (smoke)', () => {
  let ctx: TestContext;
  let running: RunningCommandApp;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let billingKey: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    running = await startCommandApp(ctx);
    store = await openKeyService(ctx);
    billingKey = (await store.keys.createAccount('Acme', operator)).billingKey.key;
  });
  afterAll(async () => {
    await running?.close();
    await store?.close();
    await ctx?.dispose();
  });

  it('creates a proxy key and records KeyCreated without the key itself', async () => {
    const api = apiClient(running.baseUrl, billingKey);
    const res = await api.post('/api/keys', { name: 'Production' });
    expect(res.status).toBe(201);
    expect(res.body.key).toMatch(/^ms-/);
    const events = await readStream(store.db as never, `key-${res.body.id}`);
    expect(events.map((e) => e.type)).toEqual(['KeyCreated']);
    expect(JSON.stringify(events)).not.toContain(res.body.key);
  });
});
