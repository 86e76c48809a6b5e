import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { apiClient, openKeyService, operator, startCommandApp, type RunningCommandApp } from '../../../test/fixtures/command-app.fixture';
import { TcpProxy } from '../../../test/fixtures/tcp-proxy.fixture';
import { startVerifierApp, verifyClient, type RunningVerifierApp, type VerifyClient } from '../../../test/fixtures/verifier-app.fixture';
import { EventFollower } from '@keys/event-follower';

// The verifier's two live sources: it reports not-ready while it cannot serve or is behind, recovers by
// itself. Content comes only from the store; the bus only announces that there is news.

describe('verifier staleness policy', () => {
  let ctx: TestContext;
  let command: RunningCommandApp;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let client: VerifyClient;
  let api: ReturnType<typeof apiClient>;
  let natsProxy: TcpProxy;
  let pgProxy: TcpProxy;
  let verifier: RunningVerifierApp;

  const readiness = async () => {
    const res = await fetch(`${verifier.baseUrl}/health/ready`);
    return { status: res.status, body: (await res.json()) as { checks: Record<string, { ok: boolean; details?: Record<string, unknown> }> } };
  };
  const createProxyKey = async () => {
    const res = await api.post('/api/keys', { name: 'k' });
    expect(res.status).toBe(201);
    return res.body as { id: number; key: string };
  };
  const eventually = (key: string, code: string, timeoutMs = 5000) =>
    waitFor(async () => (await client.verify(key, 'proxy')).code === code, { timeoutMs, intervalMs: 10 });

  beforeAll(async () => {
    ctx = await createTestContext();
    command = await startCommandApp(ctx, { runExpirySweep: false });
    store = await openKeyService(ctx);
    const account = await store.keys.createAccount('Acme', operator);
    api = apiClient(command.baseUrl, account.billingKey.key);
    natsProxy = TcpProxy.forUrl(ctx.natsUrl);
    pgProxy = TcpProxy.forUrl(ctx.databaseUrl);
    await natsProxy.start();
    await pgProxy.start();
    verifier = await startVerifierApp(ctx, { natsUrl: natsProxy.rewrite(ctx.natsUrl), databaseUrl: pgProxy.rewrite(ctx.databaseUrl), storePollIntervalMs: 200, jetStreamExpiresMs: 1000 });
    await verifier.serving();
    client = await verifyClient(ctx);
  });
  afterAll(async () => {
    await client?.close();
    // Every test leaves both proxies up (restore() on a running proxy would orphan its listener).
    await verifier?.close();
    await natsProxy?.cut();
    await pgProxy?.cut();
    await command?.close();
    await store?.close();
    await ctx?.dispose();
  });

  it('NATS cut: not ready, keeps its index current from Postgres, ready again with correct verdicts after recovery', async () => {
    const doomed = await createProxyKey();
    await eventually(doomed.key, 'VALID');
    expect((await readiness()).status).toBe(200);

    await natsProxy.cut();
    const notReady = await waitFor(async () => {
      const r = await readiness();
      return r.status === 503 ? r : null;
    });
    expect(notReady.body.checks.nats.ok).toBe(false);

    // Writes go on (the command reaches NATS and Postgres directly); the verifier sees them through Postgres.
    expect((await api.delete(`/api/keys/${doomed.id}`)).status).toBe(200);
    const fresh = await createProxyKey();
    const follower = verifier.app.get(EventFollower);
    const head = Number((await api.delete(`/api/keys/${fresh.id}`)).headers.get('x-keys-position'));
    await waitFor(() => follower.status().applied >= head, { timeoutMs: 3000 });

    await natsProxy.restore();
    await waitFor(async () => (await readiness()).status === 200, { timeoutMs: 10_000 });
    expect(await client.verify(doomed.key, 'proxy')).toEqual({ valid: false, code: 'DELETED', status: 401 });
    expect((await client.verify(fresh.key, 'proxy')).code).toBe('DELETED');
    const live = await createProxyKey();
    await eventually(live.key, 'VALID');
  });

  it('a deleted JetStream consumer is re-created', async () => {
    const jsm = await client.nc.jetstreamManager();
    const names = async () => (await jsm.consumers.list(ctx.streamName).next()).map((c) => c.name);
    const [original] = await waitFor(async () => ((await names()).length === 1 ? names() : null));
    await jsm.consumers.delete(ctx.streamName, original);
    const [replacement] = await waitFor(async () => {
      const now = await names();
      return now.length === 1 && now[0] !== original ? now : null;
    }, { timeoutMs: 10_000 });
    expect(replacement).not.toBe(original);
    await waitFor(() => verifier.app.get(EventFollower).status().busFollowing, { timeoutMs: 5000 });
  });

  it('Postgres cut: a write it cannot read fences it (no stale answer), and it rejoins once the store is back', async () => {
    const created = await createProxyKey();
    await eventually(created.key, 'VALID');
    await pgProxy.cut();
    try {
      await waitFor(() => !verifier.app.get(EventFollower).status().storeFollowing, { timeoutMs: 5000 });
      // Nothing new yet: as far as anyone can tell the index is current, so it keeps answering.
      expect((await client.verify(created.key, 'proxy')).code).toBe('VALID');
      const put = await api.put(`/api/keys/${created.id}`, { active: false });
      expect(put.status).toBe(200);
      // It could not apply the write in time, so the write ordered it out of service before answering.
      expect(put.headers.get('x-keys-propagation')).toBe('fenced');
      // No answer at all: no responders once it has left, or its drop of a request that was already on its way.
      await expect(client.verify(created.key, 'proxy')).rejects.toMatchObject({ code: expect.stringMatching(/^(503|TIMEOUT)$/) });
      const r = await readiness();
      expect(r.status).toBe(503);
      expect(r.body.checks.nats).toMatchObject({ ok: false, details: { serving: false } });
    } finally {
      await pgProxy.restore();
    }
    await eventually(created.key, 'INACTIVE', 5000);
    await waitFor(async () => (await readiness()).status === 200, { timeoutMs: 5000 });
    const del = await api.delete(`/api/keys/${created.id}`);
    expect(del.headers.get('x-keys-propagation')).toBe('confirmed');
    expect((await client.verify(created.key, 'proxy')).code).toBe('DELETED');
  });
});
