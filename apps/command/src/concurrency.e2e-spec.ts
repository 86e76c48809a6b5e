import { evolveKey, initialKeyState, type KeyEvent, type KeyState } from '@keys/domain';
import { readStream } from '@keys/event-store';
import { createTestContext, type TestContext } from '@keys/testing';
import { apiClient, openKeyService, operator, startCommandApp, type RunningCommandApp } from '../../../test/fixtures/command-app.fixture';

describe('concurrent changes to one key', () => {
  let ctx: TestContext;
  let apps: RunningCommandApp[];
  let store: Awaited<ReturnType<typeof openKeyService>>;

  beforeAll(async () => {
    ctx = await createTestContext();
    // Two instances, so the in-process queue cannot hide a lost update: the stream version check must.
    apps = [await startCommandApp(ctx), await startCommandApp(ctx, { runRelay: false, runExpirySweep: false })];
    store = await openKeyService(ctx);
  });
  afterAll(async () => {
    for (const app of apps ?? []) await app.close();
    await store?.close();
    await ctx?.dispose();
  });

  it('keeps the stream contiguous and its final state explained by the events in order (50 PUT/DELETE at once)', async () => {
    const { billingKey } = await store.keys.createAccount('Busy', operator);
    const key = (await apiClient(apps[0].baseUrl, billingKey.key).post('/api/keys', { name: 'hot' })).body;
    const requests = Array.from({ length: 50 }, (_, i) => {
      const api = apiClient(apps[i % 2].baseUrl, billingKey.key);
      if (i === 37) return api.delete(`/api/keys/${key.id}`);
      return api.put(`/api/keys/${key.id}`, i % 3 === 0 ? { active: i % 2 === 0 } : { name: `name-${i}` });
    });
    const responses = await Promise.all(requests);

    // Every request got a definite answer: applied (200), refused after the delete (409 key_deleted), or
    // refused after exhausting retries (409 concurrent_update) — never a 500, never silently lost.
    for (const res of responses) {
      expect([200, 409]).toContain(res.status);
      if (res.status === 409) expect(['key_deleted', 'concurrent_update']).toContain(res.body.error.code);
    }
    expect(responses[37].status).toBe(200);

    const events = await readStream(store.db as never, `key-${key.id}`);
    expect(events.map((e) => e.streamVersion)).toEqual(events.map((_, i) => i + 1));
    expect(events[events.length - 1].type).toBe('KeyDeleted');

    // Every successful rename is in the stream; the final state is the fold of the events in order.
    const renamesAccepted = responses.filter((r, i) => r.status === 200 && i !== 37 && i % 3 !== 0).map((r) => r.body.name);
    const renamesStored = events.filter((e) => e.type === 'KeyRenamed').map((e) => (e.data as { name: string }).name);
    for (const name of renamesAccepted) expect(renamesStored).toContain(name);
    const state = events.reduce<KeyState>((s, e) => evolveKey(s, e as unknown as KeyEvent), initialKeyState());
    expect(state).toMatchObject({ exists: true, deleted: true, active: false });
    const lastRename = renamesStored[renamesStored.length - 1];
    if (lastRename) expect(state).toMatchObject({ name: lastRename });
  });
});
