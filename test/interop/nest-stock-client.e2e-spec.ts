import { Controller, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type ClientProxy, ClientProxyFactory, ClientsModule, Ctx, EventPattern, type MicroserviceOptions, NatsContext, Payload, Transport } from '@nestjs/microservices';
import { NatsRequestJSONDeserializer } from '@nestjs/microservices/deserializers';
import { firstValueFrom } from 'rxjs';
import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { apiClient, openKeyService, operator, startCommandApp, type RunningCommandApp } from '../fixtures/command-app.fixture';
import { type RunningVerifierApp, type VerifyClient, startVerifierApp, verifyClient } from '../fixtures/verifier-app.fixture';
import { VerifyMessageController } from '../../apps/verifier/src/verify.message.controller';

// Services that use the platform with stock @nestjs/microservices: ClientNats.send on the verify subject, and
// @EventPattern handlers on the events subjects, against the real command and verifier (docs/verification.md,
// "Calling it from a NestJS app").

/** As docs/verification.md shows it: @EventPattern handlers get the whole envelope of docs/events.md. */
class KeyEventDeserializer extends NatsRequestJSONDeserializer {
  constructor(private readonly subjectPrefix: string) {
    super();
  }

  override deserialize(value: Uint8Array, options?: { channel: string }) {
    const message = super.deserialize(value, options);
    // The envelope has a `data` field, so Nest would take it for its own packet and pass handlers only `data`.
    return options?.channel.startsWith(`${this.subjectPrefix}.events.`) ? { pattern: options.channel, data: message } : message;
  }
}

interface Received {
  handler: 'KeyDeleted' | 'all';
  subject: string;
  msgId: string | undefined;
  payload: any;
}

interface NestService {
  app: INestApplication;
  client: ClientProxy;
  received: Received[];
}

/** A separate Nest app of its own module, as another team would write it: nothing from this repository. */
async function startNestService(natsUrl: string, prefix: string, withEnvelope: boolean): Promise<NestService> {
  const received: Received[] = [];
  const record = (handler: Received['handler'], payload: unknown, ctx: NatsContext) =>
    received.push({ handler, subject: ctx.getSubject(), msgId: ctx.getHeaders()?.get('Nats-Msg-Id'), payload });

  @Controller()
  class KeyEventsController {
    @EventPattern(`${prefix}.events.*.KeyDeleted`)
    onKeyDeleted(@Payload() payload: unknown, @Ctx() ctx: NatsContext) {
      record('KeyDeleted', payload, ctx);
    }

    @EventPattern(`${prefix}.events.>`)
    onAnyEvent(@Payload() payload: unknown, @Ctx() ctx: NatsContext) {
      record('all', payload, ctx);
    }
  }

  @Module({
    imports: [ClientsModule.register([{ name: 'KEYS', transport: Transport.NATS, options: { servers: [natsUrl] } }])],
    controllers: [KeyEventsController],
  })
  class ConsumerModule {}

  const app = await NestFactory.create(ConsumerModule, { logger: false });
  app.connectMicroservice<MicroserviceOptions>({
    transport: Transport.NATS,
    options: { servers: [natsUrl], ...(withEnvelope ? { deserializer: new KeyEventDeserializer(prefix) } : {}) },
  });
  await app.startAllMicroservices();
  await app.init();
  return { app, client: app.get<ClientProxy>('KEYS'), received };
}

describe('a stock NestJS service calls the verifier and receives the events', () => {
  let ctx: TestContext;
  let command: RunningCommandApp;
  let store: Awaited<ReturnType<typeof openKeyService>>;
  let verifier: RunningVerifierApp;
  let raw: VerifyClient;
  let stock: NestService;
  let withEnvelope: NestService;
  let api: ReturnType<typeof apiClient>;
  let verify: string;
  let accountId: number;

  beforeAll(async () => {
    ctx = await createTestContext();
    verify = `${ctx.subjectPrefix}.verify`;
    command = await startCommandApp(ctx);
    verifier = await startVerifierApp(ctx);
    await verifier.serving();
    stock = await startNestService(ctx.natsUrl, ctx.subjectPrefix, false);
    withEnvelope = await startNestService(ctx.natsUrl, ctx.subjectPrefix, true);
    store = await openKeyService(ctx);
    const account = await store.keys.createAccount('Acme', operator);
    accountId = account.accountId;
    api = apiClient(command.baseUrl, account.billingKey.key);
    raw = await verifyClient(ctx);
  });
  afterAll(async () => {
    await stock?.app.close();
    await withEnvelope?.app.close();
    await raw?.close();
    await verifier?.close();
    await command?.close();
    await store?.close();
    await ctx?.dispose();
  });

  it('client.send resolves to the verdict a raw client gets: VALID, then DELETED; events reach @EventPattern', async () => {
    const created = await api.post('/api/keys', { name: 'from-nest' });
    expect(created.status).toBe(201);
    const { id, key } = created.body as { id: number; key: string };

    const valid = await firstValueFrom(stock.client.send(verify, { key, scope: 'proxy' }));
    expect(valid).toMatchObject({ valid: true, code: 'VALID', status: 200, key: { id, type: 'proxy', name: 'from-nest' } });
    expect(valid).toEqual(await raw.verify(key, 'proxy'));

    expect((await api.delete(`/api/keys/${id}`)).status).toBe(200);
    const deleted = await firstValueFrom(stock.client.send(verify, { key, scope: 'proxy' }));
    expect(deleted).toEqual({ valid: false, code: 'DELETED', status: 401 });
    expect(await raw.verify(key, 'proxy')).toEqual(deleted);

    // With the deserializer of the docs: the envelope exactly as docs/events.md has it.
    const envelopes = () => withEnvelope.received.filter((r) => r.payload.data?.keyId === id);
    await waitFor(() => envelopes().length === 3);
    const keyCreated = envelopes().find((r) => r.handler === 'all' && r.payload.type === 'KeyCreated');
    const keyDeleted = envelopes().filter((r) => r.payload.type === 'KeyDeleted');
    expect(keyDeleted.map((r) => r.handler).sort()).toEqual(['KeyDeleted', 'all']);
    for (const { payload, subject, msgId } of [keyCreated!, ...keyDeleted]) {
      expect(Object.keys(payload).sort()).toEqual(['data', 'eventId', 'metadata', 'occurredAt', 'position', 'streamId', 'streamVersion', 'type']);
      expect(subject).toBe(`${ctx.subjectPrefix}.events.${accountId}.${payload.type}`);
      expect(msgId).toBe(payload.eventId);
      expect(payload.streamId).toBe(`key-${id}`);
    }
    expect(keyCreated!.payload).toMatchObject({ streamVersion: 1, data: { keyId: id, keyType: 'proxy', name: 'from-nest' } });
    expect(keyDeleted[0].payload).toMatchObject({ streamVersion: 2, data: { keyId: id }, metadata: { actor: { type: 'billing_key' } } });
    expect(keyDeleted[0].payload.position).toBeGreaterThan(keyCreated!.payload.position);

    // Stock deserializer: Nest reads the envelope as its own packet (it has `data`) and passes only `data`;
    // the subject (account, type) and Nats-Msg-Id (eventId) are on the NatsContext.
    const payloads = () => stock.received.filter((r) => r.payload.keyId === id);
    await waitFor(() => payloads().length === 3);
    expect(payloads().find((r) => r.subject.endsWith('.KeyCreated'))?.payload).toMatchObject({ keyId: id, keyType: 'proxy', name: 'from-nest' });
    expect(payloads().filter((r) => r.subject.endsWith('.KeyDeleted')).map((r) => [r.handler, r.payload])).toEqual(
      expect.arrayContaining([
        ['KeyDeleted', { keyId: id }],
        ['all', { keyId: id }],
      ]),
    );
    expect(payloads().find((r) => r.handler === 'KeyDeleted')?.msgId).toBe(keyDeleted[0].payload.eventId);
  });

  it('bad data in a Nest request: the BAD_REQUEST verdict, as a raw client gets it', async () => {
    const expected = { valid: false, code: 'BAD_REQUEST', status: 400 };
    expect(await firstValueFrom(stock.client.send(verify, { key: 'ms-x' }))).toEqual(expected);
    expect(await firstValueFrom(stock.client.send(verify, { key: 'ms-x', scope: 'admin' }))).toEqual(expected);
    expect(await firstValueFrom(stock.client.send(verify, 'ms-x'))).toEqual(expected);
    expect(await firstValueFrom(stock.client.send(verify, { key: 'ms-x', scope: 'proxy' }))).toEqual({ valid: false, code: 'MALFORMED', status: 401 });
    expect(await raw.request({ key: 'ms-x' })).toEqual(expected);
  });

  it("ClientNats's reply subject (its own _INBOX.<nuid> per request) is accepted; raw answers are unchanged", async () => {
    // A per-user inbox prefix, as a service in the CONSUMERS account of deploy/nats.conf needs (_INBOX_<user>).
    const userInbox = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: [ctx.natsUrl], inboxPrefix: '_INBOX_nest' } });
    try {
      expect(await firstValueFrom(userInbox.send(verify, { key: 'ms-x', scope: 'billing' }))).toEqual({ valid: false, code: 'MALFORMED', status: 401 });
    } finally {
      await userInbox.close();
    }
    expect(verifier.app.get(VerifyMessageController).refused).toBe(0);
    // The raw answer is the plain verdict, byte for byte as before: no envelope unless asked in one.
    const reply = await raw.nc.request(verify, new TextEncoder().encode('{"key":"ms-x","scope":"proxy"}'), { timeout: 2000 });
    expect(new TextDecoder().decode(reply.data)).toBe('{"valid":false,"code":"MALFORMED","status":401}');
  });
});
