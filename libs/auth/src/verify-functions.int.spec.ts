import { ClientNats } from '@nestjs/microservices';
import { connect, type NatsConnection } from 'nats';
import { createTestContext, type TestContext } from '@keys/testing';
import { VerifierUnavailableError, verifyKey, verifySubject, verifyWithClient } from './public-api';

// verifyKey and verifyWithClient against a real NATS server and hand-made responders. The responder here speaks
// Nest's request envelope the way the verifier does for a ClientProxy; the real verifier is in test/package.

describe('verifyKey and verifyWithClient', () => {
  let ctx: TestContext;
  let nc: NatsConnection;
  const valid = { valid: true, code: 'VALID', status: 200, key: { id: 1, accountId: 2, type: 'proxy', name: 'n', prefix: 'ms-abcde', expiresAt: null } };
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const parse = (data: Uint8Array) => JSON.parse(new TextDecoder().decode(data));

  beforeAll(async () => {
    ctx = await createTestContext();
    nc = await connect({ servers: ctx.natsUrl });
  });
  afterAll(async () => {
    await nc?.close();
    await ctx?.dispose();
  });

  it('verifyKey over a given connection, and over one it opens and closes', async () => {
    const prefix = `${ctx.subjectPrefix}.vk`;
    const seen: unknown[] = [];
    const sub = nc.subscribe(verifySubject(prefix), { callback: (_e, msg) => (seen.push(parse(msg.data)), msg.respond(json(valid))) });
    await nc.flush();
    expect(await verifyKey(nc, 'ms-abc', 'proxy', { subjectPrefix: prefix })).toEqual(valid);
    expect(await verifyKey({ nats: { url: ctx.natsUrl }, subjectPrefix: prefix }, 'ms-def', 'billing')).toEqual(valid);
    expect(seen).toEqual([{ key: 'ms-abc', scope: 'proxy' }, { key: 'ms-def', scope: 'billing' }]);
    sub.unsubscribe();
  });

  describe('verifyWithClient', () => {
    let client: ClientNats;
    beforeAll(async () => {
      client = new ClientNats({ servers: [ctx.natsUrl] });
      await client.connect();
    });
    afterAll(() => client?.close());

    /** Answers like the verifier answers a ClientProxy: the request's data in, Nest's response envelope out. */
    const nestResponder = (prefix: string, answer: (request: unknown) => unknown) =>
      nc.subscribe(verifySubject(prefix), {
        callback: (_e, msg) => {
          const packet = parse(msg.data) as { id: string; data: unknown };
          msg.respond(json({ id: packet.id, response: answer(packet.data), isDisposed: true }));
        },
      });

    it('sends {key, scope} in the envelope and resolves to the verdict', async () => {
      const prefix = `${ctx.subjectPrefix}.cp`;
      const seen: unknown[] = [];
      const sub = nestResponder(prefix, (request) => (seen.push(request), valid));
      await nc.flush();
      expect(await verifyWithClient(client, 'ms-abc', 'proxy', { subjectPrefix: prefix })).toEqual(valid);
      expect(seen).toEqual([{ key: 'ms-abc', scope: 'proxy' }]);
      sub.unsubscribe();
    });

    it('no verifier is no_responders (after the retries), a silent one timeout, an answer of unknown shape bad_answer', async () => {
      const none = verifyWithClient(client, 'ms-abc', 'proxy', { subjectPrefix: `${ctx.subjectPrefix}.none`, noResponderRetries: 2, retryBackoffMs: 5 });
      await expect(none).rejects.toBeInstanceOf(VerifierUnavailableError);
      await expect(none).rejects.toMatchObject({ reason: 'no_responders' });
      const silentPrefix = `${ctx.subjectPrefix}.silent`;
      const silent = nc.subscribe(verifySubject(silentPrefix), { callback: () => undefined });
      await nc.flush();
      await expect(verifyWithClient(client, 'ms-abc', 'proxy', { subjectPrefix: silentPrefix, timeoutMs: 100 })).rejects.toMatchObject({ reason: 'timeout' });
      silent.unsubscribe();
      const prefix = `${ctx.subjectPrefix}.odd`;
      const sub = nestResponder(prefix, () => ({ valid: true, code: 'MAYBE' }));
      await nc.flush();
      await expect(verifyWithClient(client, 'ms-abc', 'proxy', { subjectPrefix: prefix })).rejects.toMatchObject({ reason: 'bad_answer' });
      sub.unsubscribe();
    });
  });
});
