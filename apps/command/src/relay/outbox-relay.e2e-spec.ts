import { connect, type NatsConnection } from 'nats';
import { decodeEnvelope } from '@keys/bus';
import { headPosition } from '@keys/event-store';
import { createTestContext, waitFor, type TestContext } from '@keys/testing';
import { apiClient, openKeyService, operator, startCommandApp, type RunningCommandApp } from '../../../../test/fixtures/command-app.fixture';
import { TcpProxy } from '../../../../test/fixtures/tcp-proxy.fixture';
import { OutboxRelay } from './outbox.relay';

/** Every message in the test's stream, in stream order, decoded. */
async function streamEnvelopes(nc: NatsConnection, stream: string) {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(stream).catch(() => null);
  if (!info) return [];
  const out = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await jsm.streams.getMessage(stream, { seq });
    out.push({ subject: msg.subject, msgId: msg.header?.get('Nats-Msg-Id'), envelope: decodeEnvelope(msg.data) });
  }
  return out;
}

describe('outbox relay', () => {
  let ctx: TestContext;
  let nc: NatsConnection;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  const running: RunningCommandApp[] = [];

  beforeAll(async () => {
    ctx = await createTestContext();
    nc = await connect({ servers: ctx.natsUrl });
    store = await openKeyService(ctx);
  });
  /** The stream's messages once it holds at least `count` of them. */
  const waitForPublished = (count: number) =>
    waitFor(
      async () => {
        const all = await streamEnvelopes(nc, ctx.streamName);
        return all.length >= count ? all : null;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );

  afterAll(async () => {
    for (const app of running) await app.close().catch(() => undefined);
    await store?.close();
    await nc?.close();
    await ctx?.dispose();
  });

  it('keeps accepting writes while NATS is unreachable and publishes all of them exactly once, in order, when it is back', async () => {
    const proxy = TcpProxy.forUrl(ctx.natsUrl);
    await proxy.start();
    const app = await startCommandApp(ctx, { natsUrl: proxy.rewrite(ctx.natsUrl) });
    running.push(app);
    const { billingKey, accountId } = await store.keys.createAccount('Outage', operator);
    await waitFor(async () => (await streamEnvelopes(nc, ctx.streamName)).length === 2, { timeoutMs: 10_000 });

    await proxy.cut();
    const health = apiClient(app.baseUrl);
    await waitFor(async () => (await health.get('/health/ready')).status === 503, { timeoutMs: 10_000 });

    const api = apiClient(app.baseUrl, billingKey.key);
    const results = [];
    for (let i = 0; i < 100; i++) results.push(await api.post('/api/keys', { name: `offline-${i}` }));
    expect(results.map((r) => r.status)).toEqual(Array(100).fill(201));
    expect(await streamEnvelopes(nc, ctx.streamName)).toHaveLength(2);

    await proxy.restore();
    const head = await headPosition(store.db as never);
    expect(head).toBe(102);
    const published = await waitForPublished(head);
    expect(published.map((m) => m.envelope.position)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    for (const m of published) {
      expect(m.msgId).toBe(m.envelope.eventId);
      expect(m.subject).toBe(`${ctx.subjectPrefix}.events.${accountId}.${m.envelope.type}`);
      expect(Object.keys(m.envelope).sort()).toEqual(['data', 'eventId', 'metadata', 'occurredAt', 'position', 'streamId', 'streamVersion', 'type']);
    }
    await waitFor(async () => (await health.get('/health/ready')).status === 200, { timeoutMs: 10_000 });
    await app.close();
    running.splice(running.indexOf(app), 1);
    await proxy.cut();
  });

  it('relays from exactly one of several instances and hands over when that one stops', async () => {
    const a = await startCommandApp(ctx);
    const b = await startCommandApp(ctx);
    running.push(a, b);
    const relays = [a, b].map((app) => app.app.get(OutboxRelay));
    await waitFor(() => relays.some((r) => r.isLeader), { timeoutMs: 10_000 });
    expect(relays.filter((r) => r.isLeader)).toHaveLength(1);

    const leader = relays[0].isLeader ? a : b;
    const follower = leader === a ? b : a;
    const { billingKey } = await store.keys.createAccount('Handover', operator);
    await leader.close();
    running.splice(running.indexOf(leader), 1);
    await apiClient(follower.baseUrl, billingKey.key).post('/api/keys', { name: 'after handover' });

    const head = await headPosition(store.db as never);
    const published = await waitForPublished(head);
    expect(published.map((m) => m.envelope.position)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expect(follower.app.get(OutboxRelay).isLeader).toBe(true);
  });
});
