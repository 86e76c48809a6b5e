import { connect, type NatsConnection } from 'nats';
import { verifySubject } from '@keys/bus';
import { createTestContext, type TestContext } from '@keys/testing';
import { NatsKeyVerifier, VerifierUnavailableError } from './nats-key.verifier';

// The client against a real NATS server and hand-made responders: retries, timeouts, and odd answers.

describe('NatsKeyVerifier', () => {
  let ctx: TestContext;
  let nc: NatsConnection;
  const refusal = { valid: false, code: 'INACTIVE', status: 403 };

  beforeAll(async () => {
    ctx = await createTestContext();
    nc = await connect({ servers: ctx.natsUrl });
  });
  afterAll(async () => {
    await nc?.close();
    await ctx?.dispose();
  });

  const respondWith = (subject: string, answer: (data: Uint8Array) => Uint8Array | null) =>
    nc.subscribe(subject, {
      callback: (_err, msg) => {
        const reply = answer(msg.data);
        if (reply) msg.respond(reply);
      },
    });

  it('sends {key, scope} and returns the verdict', async () => {
    const subject = verifySubject(`${ctx.subjectPrefix}.a`);
    const seen: unknown[] = [];
    const sub = respondWith(subject, (data) => {
      seen.push(JSON.parse(new TextDecoder().decode(data)));
      return new TextEncoder().encode(JSON.stringify(refusal));
    });
    await nc.flush();
    const verifier = new NatsKeyVerifier(nc, { subjectPrefix: `${ctx.subjectPrefix}.a` });
    expect(await verifier.verify('ms-abc', 'proxy')).toEqual(refusal);
    expect(seen).toEqual([{ key: 'ms-abc', scope: 'proxy' }]);
    sub.unsubscribe();
  });

  it('retries on no responders, so a verifier that is (re)starting still answers', async () => {
    const prefix = `${ctx.subjectPrefix}.b`;
    const verifier = new NatsKeyVerifier(nc, { subjectPrefix: prefix, noResponderRetries: 6, retryBackoffMs: 20 });
    const pending = verifier.verify('ms-abc', 'proxy');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const sub = respondWith(verifySubject(prefix), () => new TextEncoder().encode(JSON.stringify(refusal)));
    expect(await pending).toEqual(refusal);
    sub.unsubscribe();
  });

  it('gives up with VerifierUnavailableError after the bounded retries', async () => {
    const verifier = new NatsKeyVerifier(nc, { subjectPrefix: `${ctx.subjectPrefix}.none`, noResponderRetries: 2, retryBackoffMs: 5 });
    await expect(verifier.verify('ms-abc', 'proxy')).rejects.toMatchObject({ name: 'VerifierUnavailableError', reason: 'no_responders' });
  });

  it('times out on a responder that never answers', async () => {
    const prefix = `${ctx.subjectPrefix}.silent`;
    const sub = respondWith(verifySubject(prefix), () => null);
    await nc.flush();
    const verifier = new NatsKeyVerifier(nc, { subjectPrefix: prefix, timeoutMs: 100 });
    const error = await verifier.verify('ms-abc', 'proxy').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerifierUnavailableError);
    expect((error as VerifierUnavailableError).reason).toBe('timeout');
    expect((error as Error).message).not.toContain('ms-abc');
    sub.unsubscribe();
  });

  it('treats an answer of unknown shape as no answer, and fails fast without a connection', async () => {
    const prefix = `${ctx.subjectPrefix}.odd`;
    const sub = respondWith(verifySubject(prefix), () => new TextEncoder().encode('{"valid":true,"code":"MAYBE"}'));
    await nc.flush();
    await expect(new NatsKeyVerifier(nc, { subjectPrefix: prefix }).verify('ms-abc', 'proxy')).rejects.toMatchObject({ reason: 'bad_answer' });
    await expect(new NatsKeyVerifier(() => null, { subjectPrefix: prefix }).verify('ms-abc', 'proxy')).rejects.toMatchObject({ reason: 'disconnected' });
    sub.unsubscribe();
  });
});
