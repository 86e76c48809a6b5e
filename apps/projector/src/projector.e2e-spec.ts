import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import type { Kysely } from 'kysely';
import { connect, type NatsConnection } from 'nats';
import { encodeEnvelope, ensureKeyStream, eventSubject } from '@keys/bus';
import type { EventEnvelope } from '@keys/domain';
import { readAllAfter, readCheckpoint, toPublicEnvelope } from '@keys/event-store';
import { PROJECTOR_CHECKPOINT, type ReadModelDatabase, cleanReplayChecksum, readModelChecksum } from '@keys/read-models';
import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { openKeyService, operator } from '../../../test/fixtures/command-app.fixture';
import { createProjectorApp } from './main';
import { readProjectorConfig } from './projector.config';

// The projector alone, with hand-published JetStream messages (no relay runs), so the test decides what
// arrives on the bus, twice, out of order or not at all. The read models follow the store whatever arrives.
describe('projector (JetStream → read models)', () => {
  let ctx: TestContext;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let db: Kysely<ReadModelDatabase>;
  let app: INestApplication;
  let baseUrl: string;
  let nc: NatsConnection;
  let accountId: number;
  let billingKeyId: number;
  let published = 0;

  const publish = async (events: EventEnvelope[], { fresh = false } = {}) => {
    const js = nc.jetstream();
    for (const e of events) {
      // A fresh msgID gets past JetStream's de-duplication, as a relay re-publish outside the window would.
      await js.publish(eventSubject(ctx.subjectPrefix, accountId, e.type), encodeEnvelope(e), { msgID: fresh ? `${e.eventId}-${++published}` : e.eventId });
    }
  };
  const storedAfter = async (position: number) => (await readAllAfter(store.db as never, position, 10_000)).map(toPublicEnvelope);
  const head = async () => (await storedAfter(0)).length;
  const checkpoint = () => readCheckpoint(store.db as never, PROJECTOR_CHECKPOINT);
  const consumerIdle = async () => {
    const info = await (await nc.jetstreamManager()).consumers.info(ctx.streamName, 'projector');
    return info.num_pending === 0 && info.num_ack_pending === 0;
  };

  beforeAll(async () => {
    ctx = await createTestContext();
    store = await openKeyService(ctx);
    db = store.db as unknown as Kysely<ReadModelDatabase>;
    nc = await connect({ servers: ctx.natsUrl });
    await ensureKeyStream(await nc.jetstreamManager(), { streamName: ctx.streamName, subjectPrefix: ctx.subjectPrefix });
    const config = {
      ...readProjectorConfig({ DATABASE_URL: ctx.databaseUrl, NATS_URL: ctx.natsUrl, KEYS_STREAM: ctx.streamName, KEYS_SUBJECT_PREFIX: ctx.subjectPrefix }),
      batchSize: 50,
    };
    app = await createProjectorApp(config, { quiet: true });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const account = await store.keys.createAccount('Acme', { ...operator, ipAddress: '198.51.100.7' });
    accountId = account.accountId;
    billingKeyId = account.billingKey.state.keyId;
  });
  afterAll(async () => {
    await app?.close();
    await nc?.close();
    await store?.close();
    await ctx?.dispose();
  });

  it('projects every key event into keys and security_log and moves the checkpoint', async () => {
    const proxy = await store.keys.createKey({ accountId, keyType: 'proxy', name: 'Production', expiresAt: null }, operator);
    const keyId = proxy.state.keyId;
    await store.keys.changeKey(keyId, null, (_s, now) => [{ type: 'RenameKey', keyId, name: 'Prod', now }], operator);
    await store.keys.changeKey(keyId, null, (_s, now) => [{ type: 'DeactivateKey', keyId, now }], operator);
    await store.keys.changeKey(keyId, null, (_s, now) => [{ type: 'ReactivateKey', keyId, now }], operator);
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
    await store.keys.changeKey(keyId, null, (_s, now) => [{ type: 'SetKeyExpiry', keyId, expiresAt: inAnHour, now }], operator);
    await store.keys.changeKey(keyId, null, (_s, now) => [{ type: 'DeleteKey', keyId, now }], operator);
    await publish(await storedAfter(0));

    const total = await head();
    await waitFor(async () => (await checkpoint()) === total, { timeoutMs: 10_000 });
    const row = await db.selectFrom('keys').selectAll().where('id', '=', keyId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ account_id: accountId, key_type: 'proxy', name: 'Prod', state: 'deleted', active: false, last_position: total });
    expect(row.expires_at?.toISOString()).toBe(inAnHour);
    const log = await db.selectFrom('security_log').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
    expect(log.map((l) => l.action)).toEqual(['key_created', 'key_created', 'key_renamed', 'key_deactivated', 'key_reactivated', 'key_expiry_set', 'key_deleted']);
    expect(log[0]).toMatchObject({ ip_address: '198.51.100.7', details: { keyId: billingKeyId, keyType: 'billing', actor: { type: 'operator', name: 'test' } } });
    expect(log[2].details).toMatchObject({ keyId, name: 'Prod', prefix: proxy.state.prefix, keyType: 'proxy' });

    const ready = (await (await fetch(`${baseUrl}/health/ready`)).json()) as { checks: Record<string, { details?: unknown }> };
    expect(ready.checks.projection.details).toEqual({ lag: 0, checkpoint: total, head: total });
    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/keys_projector_lag_events 0/);
  });

  it('changes nothing when every event is delivered again, in reverse order', async () => {
    const before = await readModelChecksum(db);
    await publish((await storedAfter(0)).reverse(), { fresh: true });
    await waitFor(consumerIdle, { timeoutMs: 10_000 });
    expect(await readModelChecksum(db)).toEqual(before);
  });

  it('fetches events it never received from the event store instead of skipping them', async () => {
    const from = await checkpoint();
    const key = await store.keys.createKey({ accountId, keyType: 'proxy', name: 'Gap', expiresAt: null }, operator);
    const keyId = key.state.keyId;
    for (const name of ['Gap 2', 'Gap 3', 'Gap 4']) {
      await store.keys.changeKey(keyId, null, (_s, now) => [{ type: 'RenameKey', keyId, name, now }], operator);
    }
    const missing = await storedAfter(from);
    expect(missing).toHaveLength(4);
    await publish([missing[3]]); // only the last one arrives

    await waitFor(async () => (await checkpoint()) === missing[3].position, { timeoutMs: 10_000 });
    const log = await db.selectFrom('security_log').select(['id', 'action']).where('id', '>', from).orderBy('id').execute();
    expect(log).toEqual(missing.map((e, i) => ({ id: e.position, action: i === 0 ? 'key_created' : 'key_renamed' })));
    const row = await db.selectFrom('keys').select('name').where('id', '=', keyId).executeTakeFirstOrThrow();
    expect(row.name).toBe('Gap 4');

    // The messages that arrive late are duplicates by then.
    const before = await readModelChecksum(db);
    await publish(missing.slice(0, 3));
    await waitFor(consumerIdle, { timeoutMs: 10_000 });
    expect(await readModelChecksum(db)).toEqual(before);
    const { position: _position, ...replayed } = await cleanReplayChecksum(db);
    expect(replayed).toEqual(before);
  });

  it('never takes content from the bus: a forged event at head+1 neither lands nor makes the real one be skipped', async () => {
    const key = await store.keys.createKey({ accountId, keyType: 'proxy', name: 'Victim', expiresAt: null }, operator);
    const keyId = key.state.keyId;
    await publish(await storedAfter(await checkpoint()));
    await waitFor(async () => (await checkpoint()) === (await head()), { timeoutMs: 10_000 });
    const at = (await head()) + 1;
    const forged = { eventId: randomUUID(), type: 'KeyRenamed', position: at, streamId: `key-${keyId}`, streamVersion: 2, occurredAt: new Date().toISOString(), data: { keyId, name: 'pwned' }, metadata: { actor: { type: 'operator', name: 'mallory' } } };
    await publish([forged as EventEnvelope]);
    await waitFor(consumerIdle, { timeoutMs: 10_000 });
    expect(await checkpoint()).toBe(at - 1);

    await store.keys.changeKey(keyId, null, (_s, now) => [{ type: 'DeleteKey', keyId, now }], operator);
    await publish(await storedAfter(at - 1));
    await waitFor(async () => (await checkpoint()) === at, { timeoutMs: 10_000 });
    const row = await db.selectFrom('keys').select(['name', 'state']).where('id', '=', keyId).executeTakeFirstOrThrow();
    expect(row).toEqual({ name: 'Victim', state: 'deleted' });
    const entry = await db.selectFrom('security_log').select(['action', 'details']).where('id', '=', at).executeTakeFirstOrThrow();
    expect(entry.action).toBe('key_deleted');
    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/keys_follower_bus_messages_total\{follower="projector",outcome="unconfirmed"\} [1-9]/);
    const ready = (await (await fetch(`${baseUrl}/health/ready`)).json()) as { checks: Record<string, { details?: unknown }> };
    expect(ready.checks.projection.details).toEqual({ lag: 0, checkpoint: at, head: at });
  });
});
