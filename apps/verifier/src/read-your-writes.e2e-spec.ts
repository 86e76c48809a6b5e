import { type ChildProcess, spawn } from 'node:child_process';
import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { apiClient, openKeyService, operator, startCommandApp, type RunningCommandApp } from '../../../test/fixtures/command-app.fixture';
import { TcpProxy } from '../../../test/fixtures/tcp-proxy.fixture';
import { type RunningVerifierApp, type VerifierProcess, type VerifyClient, startVerifierApp, startVerifierProcess, verifyClient } from '../../../test/fixtures/verifier-app.fixture';
import { VerifyMessageController } from './verify.message.controller';

// Verification agrees with every answered write: once POST/DELETE/PUT has answered, every verifier instance
// that answers at all answers consistently with it.

const request = (key: string) => new TextEncoder().encode(JSON.stringify({ key, scope: 'proxy' }));
/** Keeps one core busy, so the command and the verifiers compete for the other one. */
const burnCpu = (): ChildProcess => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });

interface Setup {
  ctx: TestContext;
  command: RunningCommandApp;
  store: Awaited<ReturnType<typeof openKeyService>>;
  api: ReturnType<typeof apiClient>;
  client: VerifyClient;
}

async function setUp(runExpirySweep = false): Promise<Setup> {
  const ctx = await createTestContext();
  const command = await startCommandApp(ctx, { runExpirySweep });
  const store = await openKeyService(ctx);
  const account = await store.keys.createAccount('Acme', operator);
  return { ctx, command, store, api: apiClient(command.baseUrl, account.billingKey.key), client: await verifyClient(ctx) };
}

async function tearDown(s: Partial<Setup>): Promise<void> {
  await s.client?.close();
  await s.command?.close();
  await s.store?.close();
  await s.ctx?.dispose();
}

describe('read-your-writes for verification: two verifier instances, machine loaded', () => {
  let s: Setup;
  let verifiers: RunningVerifierApp[] = [];
  let burner: ChildProcess;

  beforeAll(async () => {
    s = await setUp(true);
    verifiers = [await startVerifierApp(s.ctx), await startVerifierApp(s.ctx)];
    await Promise.all(verifiers.map((v) => v.serving()));
    burner = burnCpu();
  });
  afterAll(async () => {
    burner?.kill('SIGKILL');
    for (const v of verifiers) await v.close();
    await tearDown(s);
  });

  const onEveryInstance = (key: string) => verifiers.map((v) => v.app.get(VerifyMessageController).answer(request(key)).code);
  /**
   * Verify over NATS as a caller should (docs/verification.md): a request that gets no answer in time is sent again.
   * An instance whose event loop was starved past its stall window drops what it receives until it has read the
   * store again (here the command, both verifiers and the test share one starved process); an answer, when there
   * is one, must agree with the write. Unanswered attempts are counted, and must stay rare.
   */
  let unanswered = 0;
  const verifyOverNats = async (key: string): Promise<string> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await s.client.verify(key, 'proxy')).code;
      } catch (err) {
        if (!/TIMEOUT/.test(String((err as Error).message)) || attempt === 3) throw err;
        unanswered++;
      }
    }
  };

  it('200 creates, each verified the moment it answered: VALID on every instance and through NATS', async () => {
    const codes: string[] = [];
    const created: Array<{ id: number; key: string }> = [];
    for (let i = 0; i < 200; i++) {
      const res = await s.api.post('/api/keys', { name: `k${i}` });
      expect(res.status).toBe(201);
      expect(res.headers.get('x-keys-propagation')).toBe('confirmed');
      codes.push(...onEveryInstance(res.body.key), await verifyOverNats(res.body.key));
      created.push({ id: res.body.id, key: res.body.key });
    }
    expect(codes.filter((c) => c !== 'VALID')).toEqual([]);
    expect(codes).toHaveLength(600);

    // The mirror case: deleted, then refused at once everywhere.
    const after: string[] = [];
    for (const { id, key } of created) {
      const res = await s.api.delete(`/api/keys/${id}`);
      expect(res.status).toBe(200);
      after.push(...onEveryInstance(key), await verifyOverNats(key));
    }
    expect(after.filter((c) => c === 'VALID')).toEqual([]);
    expect(new Set(after)).toEqual(new Set(['DELETED']));
    expect(unanswered).toBeLessThanOrEqual(8); // of 400 requests
  });

  it('deactivation and reactivation are seen at once on every instance', async () => {
    const { body } = await s.api.post('/api/keys', { name: 'toggle' });
    for (let i = 0; i < 20; i++) {
      await s.api.patch(`/api/keys/${body.id}`, { active: false });
      expect(onEveryInstance(body.key)).toEqual(['INACTIVE', 'INACTIVE']);
      await s.api.patch(`/api/keys/${body.id}`, { active: true });
      expect(onEveryInstance(body.key)).toEqual(['VALID', 'VALID']);
    }
  });
  it('expiry: refused at its instant on every instance, and the KeyExpired the sweep appends later flips nothing back', async () => {
    const expiresAt = new Date(Date.now() + 1000).toISOString();
    const { body } = await s.api.post('/api/keys', { name: 'short-lived', expires_at: expiresAt });
    expect(onEveryInstance(body.key)).toEqual(['VALID', 'VALID']);
    const seen: string[] = [];
    // Until the sweep has appended KeyExpired: every answer after the instant is EXPIRED.
    await waitFor(
      async () => {
        const past = Date.now() >= Date.parse(expiresAt);
        const codes = onEveryInstance(body.key);
        if (past) seen.push(...codes);
        const events = await s.store.db.selectFrom('events').select('type').where('stream_id', '=', `key-${body.id}`).execute();
        return past && events.some((e) => e.type === 'KeyExpired');
      },
      { timeoutMs: 10_000, intervalMs: 5 },
    );
    for (let i = 0; i < 20; i++) seen.push(...onEveryInstance(body.key));
    expect(new Set(seen)).toEqual(new Set(['EXPIRED']));
  });
});

describe('read-your-writes for verification: a paused verifier process', () => {
  let s: Setup;
  let verifier: VerifierProcess;

  beforeAll(async () => {
    s = await setUp();
    verifier = await startVerifierProcess(s.ctx);
  });
  afterAll(async () => {
    await verifier?.stop();
    await tearDown(s);
  });

  /** Verify requests sent while the verifier is paused; answers, or the error when none came. */
  const askMany = (key: string, n: number) => Promise.all(Array.from({ length: n }, () => s.client.verify(key, 'proxy').then((v) => v.code as string, (e: { code?: string }) => `no answer (${e.code})`)));

  it('SIGSTOP during a DELETE: the DELETE answers within the bound (fenced), and once resumed it never answers VALID', async () => {
    const { body } = await s.api.post('/api/keys', { name: 'paused' });
    await waitFor(async () => (await s.client.verify(body.key, 'proxy')).code === 'VALID');
    verifier.pause();
    try {
      const started = Date.now();
      const res = await s.api.delete(`/api/keys/${body.id}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-keys-propagation')).toBe('fenced');
      expect(Date.now() - started).toBeLessThan(5000); // VERIFY_PROPAGATION_TIMEOUT_MS is 1000: bounded, not hung
      const pending = askMany(body.key, 20);
      await new Promise((resolve) => setTimeout(resolve, 100));
      verifier.resume();
      const answers = await pending;
      expect(answers.filter((a) => a === 'VALID')).toEqual([]);
    } finally {
      verifier.resume();
    }
    await waitFor(async () => (await s.client.verify(body.key, 'proxy')).code === 'DELETED', { timeoutMs: 10_000 });
  });

  it('SIGSTOP longer than the writers wait for it: it notices its own stall when resumed and does not answer from before the DELETE', async () => {
    const { body } = await s.api.post('/api/keys', { name: 'long pause' });
    await waitFor(async () => (await s.client.verify(body.key, 'proxy')).code === 'VALID');
    verifier.pause();
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500)); // past VERIFIER_LIVENESS_MS: writers forget it
      const res = await s.api.delete(`/api/keys/${body.id}`);
      expect(res.status).toBe(200);
      const pending = askMany(body.key, 20);
      await new Promise((resolve) => setTimeout(resolve, 100));
      verifier.resume();
      const answers = await pending;
      expect(answers.filter((a) => a === 'VALID')).toEqual([]);
    } finally {
      verifier.resume();
    }
    await waitFor(async () => (await s.client.verify(body.key, 'proxy')).code === 'DELETED', { timeoutMs: 10_000 });
  });
});

describe('read-your-writes for verification: a verifier cut from NATS and Postgres', () => {
  let s: Setup;
  let verifier: RunningVerifierApp;
  let natsProxy: TcpProxy;
  let pgProxy: TcpProxy;

  beforeAll(async () => {
    s = await setUp();
    natsProxy = TcpProxy.forUrl(s.ctx.natsUrl);
    pgProxy = TcpProxy.forUrl(s.ctx.databaseUrl);
    await natsProxy.start();
    await pgProxy.start();
    verifier = await startVerifierApp(s.ctx, { natsUrl: natsProxy.rewrite(s.ctx.natsUrl), databaseUrl: pgProxy.rewrite(s.ctx.databaseUrl), storePollIntervalMs: 200 });
    await verifier.serving();
  });
  afterAll(async () => {
    await verifier?.close();
    await natsProxy?.cut();
    await pgProxy?.cut();
    await tearDown(s);
  });

  it('is fenced: after NATS returns (Postgres still away) it answers nothing for a key deleted meanwhile, then DELETED', async () => {
    const { body } = await s.api.post('/api/keys', { name: 'cut off' });
    await waitFor(async () => (await s.client.verify(body.key, 'proxy')).code === 'VALID');
    await pgProxy.cut();
    await natsProxy.cut();
    expect((await s.api.delete(`/api/keys/${body.id}`)).status).toBe(200);
    await natsProxy.restore();
    // Reconnected to NATS, but it cannot read the store: it must stay out of the queue group.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => s.client.verify(body.key, 'proxy').then((v) => v.code as string, (e: { code?: string }) => `no answer (${e.code})`)),
    );
    expect(answers.filter((a) => a === 'VALID')).toEqual([]);
    expect(verifier.app.get(VerifyMessageController).listening).toBe(false);
    await pgProxy.restore();
    await waitFor(async () => (await s.client.verify(body.key, 'proxy')).code === 'DELETED', { timeoutMs: 10_000 });
  });
});
