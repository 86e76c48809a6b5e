import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { openKeyService, operator } from '../fixtures/command-app.fixture';
import { TcpProxy } from '../fixtures/tcp-proxy.fixture';
import { type AppProcess, startAppProcess, stopAppProcess } from '../fixtures/app-process.fixture';

// Every app exits within 5 s of SIGTERM whatever state it is in: NATS unreachable, Postgres unreachable (at
// start or later), in the middle of a catch-up or of a relay batch. Each app runs as a real process.

const EXIT_BOUND_MS = 5000;
const UNREACHABLE_NATS = 'nats://127.0.0.1:1';
const UNREACHABLE_POSTGRES = 'postgres://postgres@127.0.0.1:1/keys';

/** Sends SIGTERM and resolves with how long the process took to exit. */
async function terminate(running: AppProcess): Promise<number> {
  const started = Date.now();
  await stopAppProcess(running);
  return Date.now() - started;
}

const untilOutput = (running: AppProcess, pattern: RegExp, timeoutMs = 30_000) =>
  waitFor(() => pattern.test(running.output()), { timeoutMs, intervalMs: 50 }).catch(() => {
    throw new Error(`never printed ${pattern}; output:\n${running.output()}`);
  });

describe('shutdown within 5 s of SIGTERM', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext();
    const store = await openKeyService(ctx);
    await store.keys.createAccount('Acme', operator);
    await store.close();
  });
  afterAll(async () => {
    await ctx?.dispose();
  });

  it.each(['command', 'projector', 'verifier', 'gateway'] as const)('%s with NATS unreachable since start', async (app) => {
    const running = startAppProcess(app, ctx, { NATS_URL: UNREACHABLE_NATS });
    await untilOutput(running, /cannot reach NATS(_URL=| )nats:\/\/127\.0\.0\.1:1/);
    expect(await terminate(running)).toBeLessThan(EXIT_BOUND_MS);
  });

  it.each(['command', 'projector', 'verifier'] as const)('%s with Postgres unreachable at start: one sentence naming the variable, retries, exits on SIGTERM', async (app) => {
    const running = startAppProcess(app, ctx, { DATABASE_URL: UNREACHABLE_POSTGRES });
    await untilOutput(running, /cannot reach Postgres at DATABASE_URL=postgres:\/\/postgres@127\.0\.0\.1:1\/keys \(ECONNREFUSED\); retrying in/);
    expect(running.output()).not.toMatch(/\n\s+at /); // a sentence, not a stack trace
    expect(await terminate(running)).toBeLessThan(EXIT_BOUND_MS);
  });

  it.each(['command', 'projector', 'verifier'] as const)('%s with Postgres gone after start', async (app) => {
    const proxy = TcpProxy.forUrl(ctx.databaseUrl);
    await proxy.start();
    try {
      const running = startAppProcess(app, ctx, { DATABASE_URL: proxy.rewrite(ctx.databaseUrl) });
      await untilOutput(running, /listening on/);
      await proxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await terminate(running)).toBeLessThan(EXIT_BOUND_MS);
    } finally {
      await proxy.cut();
    }
  });

  it('command in the middle of relay batches (NATS reachable, thousands of events unpublished), and nothing is lost', async () => {
    const store = await openKeyService(ctx);
    try {
      const account = await store.keys.createAccount('Busy', operator);
      await Promise.all(Array.from({ length: 1500 }, (_, i) => store.keys.createKey({ accountId: account.accountId, keyType: 'proxy', name: `k${i}`, expiresAt: null }, operator)));
      const running = startAppProcess('command', ctx, { RELAY_BATCH_SIZE: '50' });
      await untilOutput(running, /holding the relay lock/);
      expect(await terminate(running)).toBeLessThan(EXIT_BOUND_MS);
      // Whatever the batch in flight was, the next relay publishes the rest.
      const next = startAppProcess('command', ctx);
      try {
        const head = Number((await store.db.selectFrom('events').select((e) => e.fn.max('position').as('head')).executeTakeFirstOrThrow()).head);
        await waitFor(async () => {
          const row = await store.db.selectFrom('checkpoints').select('position').where('name', '=', `relay:${ctx.streamName}`).executeTakeFirst();
          return Number(row?.position ?? 0) >= head;
        }, { timeoutMs: 30_000 });
      } finally {
        expect(await terminate(next)).toBeLessThan(EXIT_BOUND_MS);
      }
    } finally {
      await store.close();
    }
  });

  it('verifier in the middle of its catch-up', async () => {
    const running = startAppProcess('verifier', ctx, { VERIFIER_CATCH_UP_BATCH: '10' });
    await untilOutput(running, /listening on/);
    expect(await terminate(running)).toBeLessThan(EXIT_BOUND_MS);
  });
});
