import { randomUUID } from 'node:crypto';
import { type NatsConnection, connect } from 'nats';
import { encodeEnvelope, ensureKeyStream, eventSubject } from '@keys/bus';
import { type StoredEvent, readAllAfter, toPublicEnvelope } from '@keys/event-store';
import type { RequestContext } from '@keys/key-service';
import { createTestContext, type TestContext } from '@keys/testing';
import { openKeyService } from '../../../../test/fixtures/command-app.fixture';
import { TcpProxy } from '../../../../test/fixtures/tcp-proxy.fixture';
import { StreamUnreadableError, compareWithStream } from './stream-audit';

const STREAM_MESSAGES = 5000;
const alice: RequestContext = { actor: { type: 'operator', name: 'alice' }, ipAddress: null, userAgent: 'keysctl', correlationId: randomUUID() };

// `keysctl audit verify --against-stream` reads the whole stream. A NATS that stops answering (a node of the
// cluster down, a hung connection) must end the audit with an error within a bound, never leave the operator's
// terminal waiting, and never pass for a clean comparison.
describe('stream comparison: a stream that stops delivering', () => {
  let ctx: TestContext;
  let service: Awaited<ReturnType<typeof openKeyService>>;
  let events: StoredEvent[];
  let proxy: TcpProxy;
  let through: NatsConnection | null = null;

  beforeAll(async () => {
    ctx = await createTestContext();
    const nc = await connect({ servers: ctx.natsUrl });
    try {
      await ensureKeyStream(await nc.jetstreamManager(), { streamName: ctx.streamName, subjectPrefix: ctx.subjectPrefix });
      service = await openKeyService(ctx);
      const account = await service.keys.createAccount('Acme', alice);
      for (const name of ['one', 'two', 'three']) await service.keys.createKey({ accountId: account.accountId, keyType: 'proxy', name, expiresAt: null }, alice);
      events = await readAllAfter(service.db as never, 0, 1000);
      const js = nc.jetstream();
      for (const e of events) await js.publish(eventSubject(ctx.subjectPrefix, e.accountId ?? 0, e.type), encodeEnvelope(toPublicEnvelope(e)), { msgID: e.eventId });
      // More messages than one pull brings (the comparison asks for 500 at a time), so a read can stall midway.
      // Past the store's head: the comparison reports them as a truncated store, which is beside the point here.
      const last = toPublicEnvelope(events[events.length - 1]);
      for (let position = last.position + 1; position <= STREAM_MESSAGES; position += 250) {
        const acks = [];
        for (let p = position; p < position + 250 && p <= STREAM_MESSAGES; p++) {
          const copy = { ...last, eventId: randomUUID(), position: p };
          acks.push(js.publish(eventSubject(ctx.subjectPrefix, events[events.length - 1].accountId ?? 0, copy.type), encodeEnvelope(copy), { msgID: copy.eventId }));
        }
        await Promise.all(acks);
      }
    } finally {
      await nc.close();
    }
  });

  beforeEach(async () => {
    proxy = TcpProxy.forUrl(ctx.natsUrl);
    await proxy.start();
    through = await connect({ servers: proxy.rewrite(ctx.natsUrl), maxReconnectAttempts: 0 });
  });

  afterEach(async () => {
    await proxy.cut();
    await through?.close().catch(() => undefined);
    through = null;
  });

  afterAll(async () => {
    await service?.close();
    await ctx?.dispose();
  });

  it('reads the whole stream through the same path when NATS answers', async () => {
    const progress: Array<[number, number]> = [];
    const result = await compareWithStream(service.db as never, through as NatsConnection, ctx.streamName, { idleTimeoutMs: 1000, onProgress: (read, total) => progress.push([read, total]) });
    const storeHead = events[events.length - 1].position;
    expect(result).toMatchObject({ checked: STREAM_MESSAGES, streamLastPosition: STREAM_MESSAGES, findings: [{ kind: 'truncated', position: storeHead + 1, storeHead }] });
    expect(progress[0]).toEqual([0, STREAM_MESSAGES]);
    expect(progress).toContainEqual([500, STREAM_MESSAGES]);
    expect(progress[progress.length - 1]).toEqual([STREAM_MESSAGES, STREAM_MESSAGES]);
  });

  it('ends with an error naming how far it got when NATS goes silent in the middle of the stream', async () => {
    const started = Date.now();
    const comparison = compareWithStream(service.db as never, through as NatsConnection, ctx.streamName, {
      idleTimeoutMs: 1000,
      // After the first 500 messages; what is already on its way still arrives, the rest never does.
      onProgress: (read) => {
        if (read === 500) proxy.freeze();
      },
    });
    await expect(comparison).rejects.toThrow(StreamUnreadableError);
    // keysctl prints it as {"error":{"code":"stream_unreadable",...}} and exits 1.
    await expect(comparison).rejects.toMatchObject({ code: 'stream_unreadable', exitCode: 1 });
    await expect(comparison).rejects.toThrow(new RegExp(`^stream ${ctx.streamName} delivered nothing for 1 s after \\d+ of ${STREAM_MESSAGES} messages`));
    // The watchdog's second, not a library's retry loop (nor the test's own timeout).
    expect(Date.now() - started).toBeLessThan(8000);
  });
});
