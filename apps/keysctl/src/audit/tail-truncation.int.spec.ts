import { randomUUID } from 'node:crypto';
import { type NatsConnection, connect } from 'nats';
import { Client } from 'pg';
import { encodeEnvelope, ensureKeyStream, eventSubject } from '@keys/bus';
import { type StoredEvent, readAllAfter, toPublicEnvelope } from '@keys/event-store';
import type { RequestContext } from '@keys/key-service';
import { createTestContext, type TestContext } from '@keys/testing';
import { openKeyService } from '../../../../test/fixtures/command-app.fixture';
import { runKeysctl } from './run-keysctl.spec-helper';

const alice: RequestContext = { actor: { type: 'operator', name: 'alice' }, ipAddress: null, userAgent: 'keysctl', correlationId: randomUUID() };

describe('keysctl audit verify: a deleted tail', () => {
  let ctx: TestContext;
  let nc: NatsConnection;
  let service: Awaited<ReturnType<typeof openKeyService>>;
  let env: Record<string, string>;
  let accountId: number;
  let events: StoredEvent[];

  /** Publishes store events to the test's KEYS stream as the relay does (same envelope, Nats-Msg-Id). */
  async function relay(from: StoredEvent[]): Promise<void> {
    const js = nc.jetstream();
    for (const e of from) {
      await js.publish(eventSubject(ctx.subjectPrefix, e.accountId ?? 0, e.type), encodeEnvelope(toPublicEnvelope(e)), { msgID: e.eventId });
    }
  }

  /** The attacker with a leaked owner (here: superuser) credential: switch the trigger off, delete, switch it on. */
  async function deleteAfter(position: number): Promise<void> {
    const client = new Client({ connectionString: ctx.databaseUrl });
    await client.connect();
    try {
      await client.query('alter table events disable trigger user');
      await client.query('delete from events where position > $1', [position]);
      await client.query('alter table events enable trigger user');
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    ctx = await createTestContext();
    env = { DATABASE_URL: ctx.databaseUrl, NATS_URL: ctx.natsUrl, KEYS_STREAM: ctx.streamName, KEYS_SUBJECT_PREFIX: ctx.subjectPrefix };
    nc = await connect({ servers: ctx.natsUrl });
    await ensureKeyStream(await nc.jetstreamManager(), { streamName: ctx.streamName, subjectPrefix: ctx.subjectPrefix });
    service = await openKeyService(ctx);
    const account = await service.keys.createAccount('Acme', alice);
    accountId = account.accountId;
    for (const name of ['one', 'two', 'three']) {
      await service.keys.createKey({ accountId, keyType: 'proxy', name, expiresAt: null }, alice);
    }
    events = await readAllAfter(service.db as never, 0, 1000);
    await relay(events);
  });

  afterAll(async () => {
    await service?.close();
    await nc?.close();
    await ctx?.dispose();
  });

  it('an intact store prints its head position and hash, matches the stream and contains the expected head', async () => {
    const head = events[events.length - 1];
    const plain = await runKeysctl(['audit', 'verify'], env);
    expect(plain).toMatchObject({ code: 0, stdout: `ok ${head.position} events, head position ${head.position} hash ${head.hash}\n` });

    const checked = await runKeysctl(['audit', 'verify', '--against-stream', '--expect-head', head.hash], env);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toContain(`expected head found at position ${head.position}`);
    expect(checked.stdout).toContain(`stream ${ctx.streamName}: ${events.length} messages match the store, last position ${head.position}`);

    const json = await runKeysctl(['audit', 'verify', '--against-stream', '--json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, headPosition: head.position, stream: { lastPosition: head.position, lastEventId: head.eventId } });
  });

  it('refuses an --expect-head that is not a hash', async () => {
    const run = await runKeysctl(['audit', 'verify', '--expect-head', 'abc'], env);
    expect(run.code).toBe(2);
  });

  it('finds the deleted tail against the stream and against a recorded head, where the chain alone passes', async () => {
    const recorded = events[events.length - 1];
    const kept = events[events.length - 3].position;
    await deleteAfter(kept);

    // The gap this closes: the chain is intact up to the new head.
    const plain = await runKeysctl(['audit', 'verify'], env);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(`head position ${kept} `);

    const expectHead = await runKeysctl(['audit', 'verify', '--expect-head', recorded.hash], env);
    expect(expectHead).toMatchObject({
      code: 1,
      stdout: `truncated or rewritten: no event in the store has the expected head hash ${recorded.hash}; the store now ends at position ${kept}\n`,
    });

    const stream = await runKeysctl(['audit', 'verify', '--against-stream'], env);
    expect(stream).toMatchObject({
      code: 1,
      stdout: `truncated: stream ${ctx.streamName} holds events up to position ${recorded.position} but the store ends at position ${kept}; position ${kept + 1} is the first missing from the store\n`,
    });
    const json = await runKeysctl(['audit', 'verify', '--against-stream', '--json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, reason: 'truncated', position: kept + 1, storeHead: kept, streamLastPosition: recorded.position });
  });

  // Last: it leaves the store rewritten.
  it('finds a tail deleted and written again with other events, position by position', async () => {
    const recorded = events[events.length - 1];
    // After the previous test the store ends two events early; new appends take those positions again.
    await service.keys.createKey({ accountId, keyType: 'proxy', name: 'forged', expiresAt: null }, alice);
    const rewritten = (await readAllAfter(service.db as never, 0, 1000)).filter((e) => e.position > recorded.position - 2);
    expect(rewritten[0].position).toBe(recorded.position - 1);

    const stream = await runKeysctl(['audit', 'verify', '--against-stream'], env);
    expect(stream.code).toBe(1);
    expect(stream.stdout.split('\n')[0]).toBe(
      `position ${recorded.position - 1} differs between the store and stream ${ctx.streamName} (stream event ${events[events.length - 2].eventId})`,
    );
    const expectHead = await runKeysctl(['audit', 'verify', '--expect-head', recorded.hash], env);
    expect(expectHead.code).toBe(1);
  });
});
