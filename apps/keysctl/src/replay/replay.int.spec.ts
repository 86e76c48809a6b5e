import { randomUUID } from 'node:crypto';
import { type NatsConnection, type Subscription, connect } from 'nats';
import { decodeEnvelope } from '@keys/bus';
import type { EventEnvelope } from '@keys/domain';
import { readAllAfter, readCheckpoint, toPublicEnvelope } from '@keys/event-store';
import type { RequestContext } from '@keys/key-service';
import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { openKeyService } from '../../../../test/fixtures/command-app.fixture';
import { runKeysctl } from '../audit/run-keysctl.spec-helper';
import { replayEvents } from './event-replay';
import type { ReplayTarget } from './replay-target';

const alice: RequestContext = { actor: { type: 'operator', name: 'alice' }, ipAddress: '203.0.113.7', userAgent: 'keysctl', correlationId: randomUUID() };

interface Received {
  envelope: EventEnvelope;
  msgId: string | undefined;
}

function collect(sub: Subscription): Received[] {
  const received: Received[] = [];
  void (async () => {
    for await (const msg of sub) received.push({ envelope: decodeEnvelope(msg.data), msgId: msg.headers?.get('Nats-Msg-Id') });
  })();
  return received;
}

describe('keysctl replay', () => {
  let ctx: TestContext;
  let service: Awaited<ReturnType<typeof openKeyService>>;
  let nc: NatsConnection;
  let env: Record<string, string>;
  let history: EventEnvelope[];

  beforeAll(async () => {
    ctx = await createTestContext();
    env = { DATABASE_URL: ctx.databaseUrl, NATS_URL: ctx.natsUrl };
    service = await openKeyService(ctx);
    nc = await connect({ servers: ctx.natsUrl });
    const { accountId } = await service.keys.createAccount('Acme', alice);
    for (const name of ['a', 'b', 'c']) {
      const { state } = await service.keys.createKey({ accountId, keyType: 'proxy', name, expiresAt: null }, alice);
      await service.keys.changeKey(state.keyId, null, (_s, now) => [{ type: 'RenameKey', keyId: state.keyId, name: `${name}2`, now }], alice);
    }
    history = (await readAllAfter(service.db as never, 0, 1000)).map(toPublicEnvelope);
    expect(history).toHaveLength(8); // AccountCreated, billing KeyCreated, 3 × (KeyCreated, KeyRenamed)
  });

  afterAll(async () => {
    await nc?.close();
    await service?.close();
    await ctx?.dispose();
  });

  it('core NATS: delivers a range, then resumes where it stopped; every event once, in order, same envelope', async () => {
    const subject = `${ctx.subjectPrefix}.replay.core`;
    const received = collect(nc.subscribe(subject));
    await nc.flush();

    const first = await runKeysctl(['replay', '--to-subject', subject, '--to-position', '4', '--batch-size', '3', '--json'], env);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ subject, stream: null, fromPosition: 1, toPosition: 4, published: 4, duplicates: 0, lastPosition: 4, stopped: false });
    expect(await readCheckpoint(service.db as never, `replay:${subject}`)).toBe(4);

    // No --from-position: continues after the stored position.
    const rest = await runKeysctl(['replay', '--to-subject', subject, '--batch-size', '3'], env);
    expect(rest.code).toBe(0);
    expect(rest.stdout).toMatch(new RegExp(`^replayed 4 events \\(positions 5\\.\\.8\\) to ${subject.replace(/\./g, '\\.')} via core NATS, \\d+ events/s\\n$`));
    expect(rest.stderr).toContain('replaying positions 5..8 (4 events)');

    await waitFor(() => received.length >= history.length);
    await nc.flush();
    expect(received.map((r) => r.envelope)).toEqual(history);
    expect(received.map((r) => r.msgId)).toEqual(history.map((e) => e.eventId));

    const again = await runKeysctl(['replay', '--to-subject', subject, '--json'], env);
    expect(JSON.parse(again.stdout)).toMatchObject({ published: 0, fromPosition: 9 });
    await nc.flush();
    expect(received).toHaveLength(history.length);
  });

  it('JetStream: publishes with msgID = eventId, so replaying an overlap again is dropped by the stream', async () => {
    const subject = `${ctx.subjectPrefix}.replay.js`;
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: ctx.streamName, subjects: [subject] }); // removed by ctx.dispose()

    const first = await runKeysctl(['replay', '--to-subject', subject, '--from-position', '1', '--to-position', '3', '--json'], env);
    expect(JSON.parse(first.stdout)).toMatchObject({ stream: ctx.streamName, published: 3, duplicates: 0, lastPosition: 3 });
    // Explicitly from the start again: 1..3 are already there and dropped, 4..8 are new.
    const second = await runKeysctl(['replay', '--to-subject', subject, '--from-position', '1', '--json'], env);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ stream: ctx.streamName, fromPosition: 1, toPosition: 8, published: 5, duplicates: 3, lastPosition: 8 });

    const info = await jsm.streams.info(ctx.streamName);
    expect(info.state.messages).toBe(history.length);
    const stored: EventEnvelope[] = [];
    for (let seq = 1; seq <= history.length; seq++) {
      const msg = await jsm.streams.getMessage(ctx.streamName, { seq });
      expect(msg.header.get('Nats-Msg-Id')).toBe(history[seq - 1].eventId);
      stored.push(decodeEnvelope(msg.data));
    }
    expect(stored).toEqual(history);
  });

  it('stopped (Ctrl-C) mid-batch: saves the last delivered position, and the next run continues after it', async () => {
    const subject = `${ctx.subjectPrefix}.replay.stopped`;
    const delivered: number[] = [];
    const stop = new AbortController();
    const target: ReplayTarget = {
      subject,
      stream: null,
      async publish(envelope) {
        delivered.push(envelope.position);
        if (delivered.length === 3) stop.abort();
        return 'published';
      },
      flush: async () => undefined,
    };
    const tally = await replayEvents(service.db as never, target, { from: 1, to: history.length, batchSize: 5, signal: stop.signal });
    expect(tally).toEqual({ sent: 3, duplicates: 0, lastPosition: 3, stopped: true });
    expect(await readCheckpoint(service.db as never, `replay:${subject}`)).toBe(3);

    const received = collect(nc.subscribe(subject));
    await nc.flush();
    const rest = await runKeysctl(['replay', '--to-subject', subject, '--json'], env);
    expect(JSON.parse(rest.stdout)).toMatchObject({ fromPosition: 4, published: history.length - 3 });
    await waitFor(() => received.length >= history.length - 3);
    expect(received.map((r) => r.envelope.position)).toEqual(history.slice(3).map((e) => e.position));
  });

  it('refuses a wildcard subject and an inverted range', async () => {
    const wildcard = await runKeysctl(['replay', '--to-subject', 'keys.>'], env);
    expect(wildcard.code).toBe(2);
    expect(wildcard.stderr).toContain('--to-subject must be a concrete subject');
    const inverted = await runKeysctl(['replay', '--to-subject', 'x.y', '--from-position', '5', '--to-position', '2'], env);
    expect(inverted.code).toBe(2);
  });
});
