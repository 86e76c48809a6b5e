import type { INestApplication } from '@nestjs/common';
import type { Kysely } from 'kysely';
import { connect, type NatsConnection } from 'nats';
import { usageSubject } from '@keys/bus';
import { type ReadModelDatabase, USAGE_MAX_SKEW_MS } from '@keys/read-models';
import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { createProjectorApp } from '../../../projector/src/main';
import { readProjectorConfig } from '../../../projector/src/projector.config';
import { KeyUsage } from '../../../verifier/src/key-usage';
import { VerifyMessageController } from '../../../verifier/src/verify.message.controller';
import { apiClient, openKeyService, operator, startCommandApp, type RunningCommandApp } from '../../../../test/fixtures/command-app.fixture';
import { type RunningVerifierApp, startVerifierApp } from '../../../../test/fixtures/verifier-app.fixture';

const FLUSH_MS = 200;
const DAY_MS = 86_400_000;

// lastUsedAt end to end: two verifier instances flush their usage every 200 ms, the projector folds the
// batches into key_usage, the command's read routes answer it. Verifications are made on a chosen instance
// through its controller (the same code the NATS subscription runs), since the queue group picks at random.
describe('lastUsedAt (usage telemetry) and unused_for_days', () => {
  let ctx: TestContext;
  let command: RunningCommandApp;
  let projector: INestApplication;
  let verifiers: RunningVerifierApp[] = [];
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let db: Kysely<ReadModelDatabase>;
  let nc: NatsConnection;
  let acme: ReturnType<typeof apiClient>;

  const verifyOn = (verifier: RunningVerifierApp, key: string) =>
    verifier.app.get(VerifyMessageController).answer(Buffer.from(JSON.stringify({ key, scope: 'proxy' })));
  const lastUsedAt = async (id: number): Promise<string | null> => (await acme.get(`/api/keys/${id}`)).body.lastUsedAt;
  /** The projector writes one batch at a time in arrival order: once this marker batch landed, every earlier one has too. */
  const publishThenSettle = async (batch: Array<[number, number]>, marker: { id: number; ms: number }) => {
    nc.publish(usageSubject(ctx.subjectPrefix), Buffer.from(JSON.stringify({ instance: 'test', batch })));
    nc.publish(usageSubject(ctx.subjectPrefix), Buffer.from(JSON.stringify({ instance: 'test', batch: [[marker.id, marker.ms]] })));
    await waitFor(async () => (await lastUsedAt(marker.id)) === new Date(marker.ms).toISOString(), { timeoutMs: 5000 });
  };

  beforeAll(async () => {
    ctx = await createTestContext();
    command = await startCommandApp(ctx, { usageFlushIntervalMs: FLUSH_MS });
    projector = await createProjectorApp(
      readProjectorConfig({ DATABASE_URL: ctx.databaseUrl, NATS_URL: ctx.natsUrl, KEYS_STREAM: ctx.streamName, KEYS_SUBJECT_PREFIX: ctx.subjectPrefix }),
      { quiet: true },
    );
    await projector.init();
    verifiers = [await startVerifierApp(ctx, { usageFlushIntervalMs: FLUSH_MS }), await startVerifierApp(ctx, { usageFlushIntervalMs: FLUSH_MS })];
    await Promise.all(verifiers.map((v) => v.serving()));
    store = await openKeyService(ctx);
    db = store.db as unknown as Kysely<ReadModelDatabase>;
    nc = await connect({ servers: ctx.natsUrl });
    acme = apiClient(command.baseUrl, (await store.keys.createAccount('Acme', operator)).billingKey.key);
  });
  afterAll(async () => {
    await nc?.close();
    for (const v of verifiers) await v.close();
    await command?.close();
    await projector?.close();
    await store?.close();
    await ctx?.dispose();
  });

  it('shows the latest VALID verification from either instance within the flush interval, null for a key never verified', async () => {
    const used = await acme.post('/api/keys', { name: 'Used' });
    const unused = await acme.post('/api/keys', { name: 'Unused' });
    expect(used.body.lastUsedAt).toBeNull(); // a key just issued
    const firstAt = Date.now();
    expect(verifyOn(verifiers[0], used.body.key).code).toBe('VALID');
    expect(verifyOn(verifiers[1], used.body.key).code).toBe('VALID');
    const verifiedAt = Date.now();
    // A flush and a projector write; the bound is generous so a loaded CI machine does not make it flaky.
    await waitFor(async () => (await lastUsedAt(used.body.id)) !== null, { timeoutMs: FLUSH_MS * 25, intervalMs: 20 });
    // Both instances verified it: let the later of their batches land too before reading the value.
    await new Promise((r) => setTimeout(r, FLUSH_MS * 3));
    const seen = Date.parse((await lastUsedAt(used.body.id)) as string);
    expect(seen).toBeGreaterThanOrEqual(firstAt);
    expect(seen).toBeLessThanOrEqual(verifiedAt);
    expect(seen).toBeLessThanOrEqual(Date.now());
    expect(await lastUsedAt(unused.body.id)).toBeNull();
    const listed = (await acme.get('/api/keys')).body.keys;
    expect(listed).toContainEqual(expect.objectContaining({ id: used.body.id, lastUsedAt: new Date(seen).toISOString() }));
    expect(listed).toContainEqual(expect.objectContaining({ id: unused.body.id, lastUsedAt: null }));
    // A refused verification is not a use.
    await acme.put(`/api/keys/${unused.body.id}`, { active: false });
    expect(verifyOn(verifiers[0], unused.body.key).code).toBe('INACTIVE');
    await new Promise((r) => setTimeout(r, FLUSH_MS * 3));
    expect(await lastUsedAt(unused.body.id)).toBeNull();
    // The write answers carry it too.
    expect((await acme.put(`/api/keys/${used.body.id}`, { name: 'Used again' })).body.lastUsedAt).toBe(new Date(seen).toISOString());
    // Billing keys: the command authenticates this very caller itself and records the use (BillingKeyUsage).
    await waitFor(async () => (await acme.get('/api/billing-keys')).body.keys[0].lastUsedAt !== null, { timeoutMs: 5000 });
    const billingUsedAt = Date.parse((await acme.get('/api/billing-keys')).body.keys[0].lastUsedAt as string);
    expect(billingUsedAt).toBeGreaterThanOrEqual(firstAt - 1000);
    expect(billingUsedAt).toBeLessThanOrEqual(Date.now());
  });

  it('never moves backwards: a restarted instance, a late batch, or one from the future', async () => {
    const key = await acme.post('/api/keys', { name: 'Restarted' });
    const marker = await acme.post('/api/keys', { name: 'Marker' });
    verifyOn(verifiers[0], key.body.key);
    // Closing flushes what is pending: this use is not lost.
    const beforeClose = Date.now();
    verifyOn(verifiers[0], key.body.key);
    await verifiers[0].close();
    await waitFor(async () => Date.parse((await lastUsedAt(key.body.id)) ?? '0') >= beforeClose, { timeoutMs: 5000 });
    const latest = await lastUsedAt(key.body.id);
    verifiers[0] = await startVerifierApp(ctx, { usageFlushIntervalMs: FLUSH_MS });
    await verifiers[0].serving();
    await new Promise((r) => setTimeout(r, FLUSH_MS * 3)); // the new instance knows no use: it reports nothing
    expect(await lastUsedAt(key.body.id)).toBe(latest);
    // A late batch with an older time (e.g. held by a verifier while NATS was away) does not lower it.
    await publishThenSettle([[key.body.id, Date.parse(latest as string) - 60_000]], { id: marker.body.id, ms: Date.now() - 1000 });
    expect(await lastUsedAt(key.body.id)).toBe(latest);
    // A time from the future (a skewed clock, a forged batch) is cut to the receipt time plus the skew.
    const published = Date.now();
    await publishThenSettle([[key.body.id, published + DAY_MS]], { id: marker.body.id, ms: Date.now() });
    expect(Date.parse((await lastUsedAt(key.body.id)) as string)).toBeLessThanOrEqual(Date.now() + USAGE_MAX_SKEW_MS);
  });

  it('loses a batch when an instance dies before flushing: lastUsedAt is older than the truth, never newer', async () => {
    const key = await acme.post('/api/keys', { name: 'Lost' });
    verifyOn(verifiers[1], key.body.key);
    await waitFor(async () => (await lastUsedAt(key.body.id)) !== null, { timeoutMs: 5000 });
    const recorded = await lastUsedAt(key.body.id);
    const doomed = await startVerifierApp(ctx, { usageFlushIntervalMs: 3_600_000 });
    await doomed.serving();
    verifyOn(doomed, key.body.key); // the true last use
    // What a SIGKILL does to the in-memory usage: gone before any flush (close() would flush it).
    doomed.app.get(KeyUsage).take();
    await doomed.close();
    await new Promise((r) => setTimeout(r, FLUSH_MS * 3));
    expect(await lastUsedAt(key.body.id)).toBe(recorded);
  });

  it('lists keys not used for N days with unused_for_days; a never-used key counts from its createdAt', async () => {
    const recent = await acme.post('/api/keys', { name: 'Recently used' });
    const stale = await acme.post('/api/keys', { name: 'Used long ago' });
    const old = await acme.post('/api/keys', { name: 'Never used, created long ago' });
    const fresh = await acme.post('/api/keys', { name: 'Never used, created now' });
    verifyOn(verifiers[1], recent.body.key);
    await waitFor(async () => (await lastUsedAt(recent.body.id)) !== null, { timeoutMs: 5000 });
    // No API makes a key old: 40 days are written straight into the tables the route reads, key_usage for a
    // last use and the keys read-model row's created_at for a key created then (the event keeps its own time).
    const fortyDaysAgo = new Date(Date.now() - 40 * DAY_MS);
    await db.insertInto('key_usage').values({ key_id: stale.body.id, last_used_at: fortyDaysAgo }).execute();
    await db.updateTable('keys').set({ created_at: fortyDaysAgo.toISOString() }).where('id', '=', old.body.id).execute();
    const ids = async (query: string) => ((await acme.get(`/api/keys?${query}`)).body.keys as Array<{ id: number }>).map((k) => k.id);
    const ours = [recent.body.id, stale.body.id, old.body.id, fresh.body.id];
    expect((await ids('unused_for_days=30')).filter((id) => ours.includes(id))).toEqual([stale.body.id, old.body.id]);
    expect((await ids('unused_for_days=39')).filter((id) => ours.includes(id))).toEqual([stale.body.id, old.body.id]);
    expect((await ids('unused_for_days=41')).filter((id) => ours.includes(id))).toEqual([]);
    expect((await ids('unused_for_days=1')).filter((id) => ours.includes(id))).toEqual([stale.body.id, old.body.id]);
    expect((await acme.get(`/api/keys/${stale.body.id}`)).body.lastUsedAt).toBe(fortyDaysAgo.toISOString());
    // The billing key authenticating these very requests is in use.
    expect((await acme.get('/api/billing-keys?unused_for_days=1')).body.keys).toEqual([]);
  });

  it.each(['0', '3651', 'abc', '1.5', '-1', '', '12345'])('refuses unused_for_days=%s with 400 naming unused_for_days', async (value) => {
    for (const path of ['/api/keys', '/api/billing-keys']) {
      const res = await acme.get(`${path}?unused_for_days=${value}`);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'validation_failed', param: 'unused_for_days' });
    }
  });

  it('accepts the bounds 1 and 3650', async () => {
    expect((await acme.get('/api/keys?unused_for_days=3650')).status).toBe(200);
    expect((await acme.get('/api/billing-keys?unused_for_days=1')).status).toBe(200);
  });
});
