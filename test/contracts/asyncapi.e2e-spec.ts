import { connect, type Msg, type NatsConnection, type Subscription } from 'nats';
import { allEventsSubject } from '@keys/bus';
import { generateKey } from '@keys/key-material';
import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { apiClient, openKeyService, operator, type RunningCommandApp, startCommandApp } from '../fixtures/command-app.fixture';
import { type RunningVerifierApp, startVerifierApp, type VerifyClient, verifyClient } from '../fixtures/verifier-app.fixture';
import { type AsyncApiContract, loadAsyncApiContract } from './asyncapi-contract';

// docs/asyncapi.yaml against the running system: every event the relay publishes and every verify answer must
// match the document's own schemas, so the document cannot drift from what subscribers and callers receive.

interface ReceivedEvent {
  subject: string;
  headers: Record<string, string>;
  payload: any;
}

function received(msg: Msg): ReceivedEvent {
  const headers: Record<string, string> = {};
  for (const [name, values] of msg.headers ?? []) headers[name] = values[0];
  return { subject: msg.subject, headers, payload: JSON.parse(new TextDecoder().decode(msg.data)) };
}

describe('docs/asyncapi.yaml matches what the system sends over NATS', () => {
  let ctx: TestContext;
  let contract: AsyncApiContract;
  let command: RunningCommandApp;
  let verifier: RunningVerifierApp;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let nc: NatsConnection;
  let subscription: Subscription;
  let client: VerifyClient;
  const events: ReceivedEvent[] = [];
  let billingKey: string;
  let accountId: number;

  beforeAll(async () => {
    ctx = await createTestContext();
    contract = await loadAsyncApiContract();
    nc = await connect({ servers: ctx.natsUrl });
    // Subscribed before anything is written, as a subscriber outside the service would be.
    subscription = nc.subscribe(allEventsSubject(ctx.subjectPrefix), { callback: (err, msg) => !err && events.push(received(msg)) });
    await nc.flush();
    command = await startCommandApp(ctx, { runExpirySweep: false });
    store = await openKeyService(ctx);
    ({ billingKey, accountId } = await store.keys.createAccount('Acme', operator).then((a) => ({ billingKey: a.billingKey.key, accountId: a.accountId })));
    verifier = await startVerifierApp(ctx);
    await verifier.serving();
    client = await verifyClient(ctx);
  });
  afterAll(async () => {
    subscription?.unsubscribe();
    await client?.close();
    await nc?.close();
    await verifier?.close();
    await command?.close();
    await store?.close();
    await ctx?.dispose();
  });

  it('every event type published by the relay matches its message, subject and Nats-Msg-Id header', async () => {
    const api = apiClient(command.baseUrl, billingKey);
    const created = await api.post('/api/keys', { name: 'Production', expires_at: '2031-01-01T00:00:00Z' });
    expect(created.status).toBe(201);
    const id = created.body.id as number;
    expect((await api.put(`/api/keys/${id}`, { name: 'Production EU' })).status).toBe(200);
    expect((await api.patch(`/api/keys/${id}`, { active: false })).status).toBe(200);
    expect((await api.patch(`/api/keys/${id}`, { active: true })).status).toBe(200);
    expect((await api.put(`/api/keys/${id}`, { expires_at: '2032-01-01T00:00:00Z' })).status).toBe(200);
    expect((await api.put(`/api/keys/${id}`, { expires_at: null })).status).toBe(200);
    // A roll with no overlap expires the old key at once: KeyCreated for the new key, KeyExpired for the old.
    const rolled = await api.post(`/api/keys/${id}/roll`, { expires_in_seconds: 0 });
    expect(rolled.status).toBe(201);
    expect((await api.delete(`/api/keys/${rolled.body.id}`)).status).toBe(200);
    // Revocation has no owner route: an operator's (keysctl's) path.
    const leaky = await api.post('/api/keys', { name: 'Leaky' });
    await store.keys.changeKey(leaky.body.id, null, (_s, now) => [{ type: 'RevokeKey', keyId: leaky.body.id, reason: 'operator', foundAt: null, note: 'ticket 42', now }], operator);

    const all = await waitFor(() => (contract.eventTypes.every((type) => events.some((e) => e.payload.type === type)) ? events : null), {
      timeoutMs: 20_000,
      intervalMs: 50,
    });
    for (const event of all) {
      expect({ subject: event.subject, problem: contract.checkEvent(event.subject, event.headers, event.payload) }).toEqual({ subject: event.subject, problem: null });
      expect(event.subject).toBe(`${ctx.subjectPrefix}.events.${accountId}.${event.payload.type}`);
      expect(event.headers['Nats-Msg-Id']).toBe(event.payload.eventId);
    }
    expect(new Set(all.map((e) => e.payload.type))).toEqual(new Set(contract.eventTypes));
  });

  it('fails a published event that differs from the document', async () => {
    const event = await waitFor(() => events.find((e) => e.payload.type === 'KeyCreated'), { timeoutMs: 20_000 });
    expect(contract.checkEvent(event.subject, event.headers, event.payload)).toBeNull();
    expect(contract.checkEvent(event.subject, event.headers, { ...event.payload, position: String(event.payload.position) })).toMatch(/KeyCreated payload: \/position must be integer/);
    expect(contract.checkEvent(event.subject, event.headers, { ...event.payload, data: { ...event.payload.data, key: 'ms-…' } })).toMatch(/must NOT have additional properties/);
    expect(contract.checkEvent(event.subject, {}, event.payload)).toMatch(/headers: .*Nats-Msg-Id/);
    expect(contract.checkEvent(event.subject.replace('KeyCreated', 'KeyRenamed'), event.headers, event.payload)).toMatch(/payload/);
  });

  it('every verify answer (VALID and each refusal) matches exactly one reply message of the document', async () => {
    const api = apiClient(command.baseUrl, billingKey);
    const create = async (name: string) => {
      const res = await api.post('/api/keys', { name });
      expect(res.status).toBe(201);
      return res.body as { id: number; key: string };
    };
    const valid = await create('valid');
    const inactive = await create('inactive');
    expect((await api.patch(`/api/keys/${inactive.id}`, { active: false })).status).toBe(200);
    const deleted = await create('deleted');
    expect((await api.delete(`/api/keys/${deleted.id}`)).status).toBe(200);
    const revoked = await create('revoked');
    await store.keys.changeKey(revoked.id, null, (_s, now) => [{ type: 'RevokeKey', keyId: revoked.id, reason: 'leaked', foundAt: 'https://github.com/o/r', note: null, now }], operator);
    // Not through the command's write path, so nothing waited for the verifiers: wait here.
    await waitFor(async () => (await client.request({ key: revoked.key, scope: 'proxy' })).code === 'REVOKED', { timeoutMs: 10_000 });
    const expired = await create('expired');
    expect((await api.post(`/api/keys/${expired.id}/roll`, { expires_in_seconds: 0 })).status).toBe(201);

    // Writes answer once the verifiers have applied them, so each answer is final at once.
    const asks: Array<[string, unknown]> = [
      ['VALID', { key: valid.key, scope: 'proxy' }],
      ['NOT_FOUND', { key: generateKey('proxy').key, scope: 'proxy' }],
      ['MALFORMED', { key: 'ms-not-a-key', scope: 'proxy' }],
      ['DELETED', { key: deleted.key, scope: 'proxy' }],
      ['REVOKED', { key: revoked.key, scope: 'proxy' }],
      ['EXPIRED', { key: expired.key, scope: 'proxy' }],
      ['INACTIVE', { key: inactive.key, scope: 'proxy' }],
      ['WRONG_TYPE', { key: billingKey, scope: 'proxy' }],
      ['BAD_REQUEST', { key: valid.key, scope: 'proxy', extra: true }],
      ['BAD_REQUEST', 'not json'],
    ];
    for (const [code, request] of asks) {
      if (code !== 'BAD_REQUEST') expect(contract.checkVerifyRequest(request)).toBeNull();
      const answer = await client.request(request);
      expect({ code, answer: answer.code, problem: contract.checkVerifyAnswer(answer) }).toEqual({ code, answer: code, problem: null });
    }
    expect(contract.checkVerifyRequest({ key: valid.key, scope: 'proxy', extra: true })).not.toBeNull();

    // The second request form: @nestjs/microservices' envelope, answered in Nest's envelope.
    const nestAsks: Array<[string, Record<string, unknown>]> = [
      ['VALID', { pattern: `${ctx.subjectPrefix}.verify`, data: { key: valid.key, scope: 'proxy' }, id: 'nest-1' }],
      ['DELETED', { pattern: `${ctx.subjectPrefix}.verify`, data: { key: deleted.key, scope: 'proxy' }, id: 'nest-2' }],
      ['BAD_REQUEST', { pattern: `${ctx.subjectPrefix}.verify`, data: { key: valid.key }, id: 'nest-3' }],
    ];
    for (const [code, request] of nestAsks) {
      if (code !== 'BAD_REQUEST') expect(contract.checkVerifyRequest(request)).toBeNull();
      const answer = await client.request(request);
      expect({ code, answer: answer.response?.code, id: answer.id, problem: contract.checkVerifyAnswer(answer) }).toEqual({ code, answer: code, id: request.id, problem: null });
    }
  });

  it('fails a verify answer that differs from the document', async () => {
    const answer = await client.request({ key: billingKey, scope: 'billing' });
    expect(contract.checkVerifyAnswer(answer)).toBeNull();
    expect(contract.checkVerifyAnswer({ ...answer, status: '200' })).toMatch(/matches none/);
    expect(contract.checkVerifyAnswer({ ...answer, key: { ...answer.key, hash: 'x' } })).toMatch(/matches none/);
    expect(contract.checkVerifyAnswer({ valid: false, code: 'INACTIVE', status: 401 })).toMatch(/matches none/);
    const nest = await client.request({ pattern: 'verify', data: { key: billingKey, scope: 'billing' }, id: 'n' });
    expect(contract.checkVerifyAnswer(nest)).toBeNull();
    expect(contract.checkVerifyAnswer({ ...nest, isDisposed: false })).toMatch(/matches none/);
    expect(contract.checkVerifyAnswer({ ...nest, response: { ...nest.response, code: 'OK' } })).toMatch(/matches none/);
  });
});
