import { randomUUID } from 'node:crypto';
import { encodeEnvelope, eventSubject } from '@keys/bus';
import { generateKey, hashKey } from '@keys/key-material';
import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { startCommandWithVerifier, verifyClient, type RunningVerifierApp, type VerifyClient } from '../../../test/fixtures/verifier-app.fixture';
import { EventFollower } from '@keys/event-follower';

// A hostile publisher on the events subjects (a leaked credential, a misconfigured service): whatever it
// sends, the verifier's verdicts follow the event store, and its readiness tells the truth about it.
describe('verifier against forged and replayed bus messages', () => {
  let ctx: TestContext;
  let setup: Awaited<ReturnType<typeof startCommandWithVerifier>>;
  let verifier: RunningVerifierApp;
  let client: VerifyClient;

  beforeAll(async () => {
    ctx = await createTestContext();
    setup = await startCommandWithVerifier(ctx);
    verifier = setup.verifier;
    client = await verifyClient(ctx);
  });
  afterAll(async () => {
    await client?.close();
    await verifier?.close();
    await setup?.command.close();
    await setup?.store.close();
    await ctx?.dispose();
  });

  const createKey = async (name: string) => {
    const res = await setup.api.post('/api/keys', { name });
    expect(res.status).toBe(201);
    return { id: res.body.id as number, key: res.body.key as string, position: Number(res.headers.get('x-keys-position')) };
  };
  const eventually = (key: string, code: string, timeoutMs = 1000) =>
    waitFor(async () => (await client.verify(key, 'proxy')).code === code, { timeoutMs, intervalMs: 5 });
  const follower = () => verifier.app.get(EventFollower);
  /** Publishes like the relay does (JetStream, Nats-Msg-Id), with content of the attacker's choosing. */
  const forge = async (envelope: Record<string, unknown>) => {
    const subject = eventSubject(ctx.subjectPrefix, setup.accountId, envelope.type as 'KeyCreated');
    await client.nc.jetstream().publish(subject, encodeEnvelope(envelope as never), { msgID: randomUUID() });
  };
  const envelope = (position: number, type: string, data: Record<string, unknown>) => ({
    eventId: randomUUID(),
    type,
    position,
    streamId: `key-${String(data.keyId)}`,
    streamVersion: 99,
    occurredAt: new Date().toISOString(),
    data,
    metadata: { actor: { type: 'operator', name: 'mallory' } },
  });
  const readiness = async () => {
    const res = await fetch(`${verifier.baseUrl}/health/ready`);
    return { status: res.status, index: ((await res.json()) as { checks: { index: { details: Record<string, number | boolean> } } }).checks.index.details };
  };

  it('a forged event at head+1 does not make the next real event (a DELETE) be skipped', async () => {
    const victim = await createKey('victim');
    await eventually(victim.key, 'VALID');
    const head = follower().status().applied;
    // What the next real event will be: the verifier must not take this one for it.
    await forge(envelope(head + 1, 'KeyRenamed', { keyId: victim.id, name: 'harmless' }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await setup.api.delete(`/api/keys/${victim.id}`)).status).toBe(200);
    await eventually(victim.key, 'DELETED');
    expect(follower().status()).toMatchObject({ lag: 0, announced: 0 });
  });

  it('a forged KeyCreated for a key the attacker made up never verifies', async () => {
    const made = generateKey('proxy');
    const head = follower().status().applied;
    await forge(envelope(head + 1, 'KeyCreated', { keyId: 999_999, accountId: setup.accountId, keyType: 'proxy', name: 'mine', prefix: made.prefix, hash: hashKey(made.key), expiresAt: null }));
    // The next real write lands at that position; the forged content must not have been applied meanwhile.
    const next = await createKey('after-forgery');
    await eventually(next.key, 'VALID');
    expect((await client.verify(made.key, 'proxy')).code).toBe('NOT_FOUND');
  });

  it('a replayed old real event (a KeyCreated of a key deleted since) changes nothing', async () => {
    const key = await createKey('replayed');
    await eventually(key.key, 'VALID');
    const created = (await setup.store.db.selectFrom('events').selectAll().where('position', '=', key.position).executeTakeFirstOrThrow()) as { data: unknown; event_id: string; type: string };
    expect((await setup.api.delete(`/api/keys/${key.id}`)).status).toBe(200);
    await eventually(key.key, 'DELETED');
    await forge({ ...envelope(key.position, created.type, created.data as Record<string, unknown>), eventId: created.event_id });
    await forge({ ...envelope(follower().status().applied + 1, created.type, created.data as Record<string, unknown>) });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await client.verify(key.key, 'proxy')).code).toBe('DELETED');
  });

  it('an announcement far ahead of the store leaves readiness honest (lag 0) and is counted', async () => {
    const before = await metricValue('keys_follower_bus_messages_total{follower="verifier",outcome="unconfirmed"}');
    await forge(envelope(follower().status().applied + 1000, 'KeyDeleted', { keyId: 1 }));
    await waitFor(async () => (await metricValue('keys_follower_bus_messages_total{follower="verifier",outcome="unconfirmed"}')) > before, { timeoutMs: 3000 });
    const ready = await readiness();
    expect(ready.status).toBe(200);
    expect(ready.index).toMatchObject({ lag: 0, announced: 0, storeFollowing: true });
    // And it is still serving the truth.
    const live = await createKey('live');
    await eventually(live.key, 'VALID');
  });

  it('a message that is not an envelope is counted, not applied, and does not stop the follower', async () => {
    await client.nc.jetstream().publish(eventSubject(ctx.subjectPrefix, setup.accountId, 'KeyDeleted'), new TextEncoder().encode('not json'), { msgID: randomUUID() });
    await waitFor(async () => (await metricValue('keys_follower_bus_messages_total{follower="verifier",outcome="unreadable"}')) > 0, { timeoutMs: 3000 });
    const live = await createKey('still-following');
    await eventually(live.key, 'VALID');
  });

  async function metricValue(series: string): Promise<number> {
    const text = await (await fetch(`${verifier.baseUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  }
});
