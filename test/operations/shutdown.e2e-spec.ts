import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { openKeyService, operator } from '../fixtures/command-app.fixture';
import { TcpProxy } from '../fixtures/tcp-proxy.fixture';

// Every app exits within 5 s of SIGTERM whatever state it is in: NATS unreachable, Postgres unreachable (at
// start or later), in the middle of a catch-up or of a relay batch. Each app runs as a real process.

const ROOT = join(__dirname, '..', '..');
const EXIT_BOUND_MS = 5000;
const UNREACHABLE_NATS = 'nats://127.0.0.1:1';
const UNREACHABLE_POSTGRES = 'postgres://postgres@127.0.0.1:1/keys';

type App = 'command' | 'projector' | 'verifier' | 'gateway';

interface Running {
  child: ChildProcess;
  output(): string;
}

function startApp(app: App, ctx: TestContext, env: Record<string, string> = {}): Running {
  let output = '';
  const child = spawn(process.execPath, ['-r', '@swc-node/register', `apps/${app}/src/main.ts`], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: ctx.databaseUrl,
      NATS_URL: ctx.natsUrl,
      KEYS_STREAM: ctx.streamName,
      KEYS_SUBJECT_PREFIX: ctx.subjectPrefix,
      PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (chunk: Buffer) => (output = (output + String(chunk)).slice(-20_000));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return { child, output: () => output };
}

/** Sends SIGTERM and resolves with how long the process took to exit. */
async function terminate(running: Running): Promise<number> {
  const started = Date.now();
  const exited = new Promise<void>((resolve) => {
    if (running.child.exitCode !== null || running.child.signalCode !== null) resolve();
    else running.child.once('exit', () => resolve());
  });
  running.child.kill('SIGTERM');
  const killer = setTimeout(() => running.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(killer);
  return Date.now() - started;
}

const untilOutput = (running: Running, pattern: RegExp, timeoutMs = 30_000) =>
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
    const running = startApp(app, ctx, { NATS_URL: UNREACHABLE_NATS });
    await untilOutput(running, /cannot reach NATS(_URL=| )nats:\/\/127\.0\.0\.1:1/);
    expect(await terminate(running)).toBeLessThan(EXIT_BOUND_MS);
  });

  it.each(['command', 'projector', 'verifier'] as const)('%s with Postgres unreachable at start: one sentence naming the variable, retries, exits on SIGTERM', async (app) => {
    const running = startApp(app, ctx, { DATABASE_URL: UNREACHABLE_POSTGRES });
    await untilOutput(running, /cannot reach Postgres at DATABASE_URL=postgres:\/\/postgres@127\.0\.0\.1:1\/keys \(ECONNREFUSED\); retrying in/);
    expect(running.output()).not.toMatch(/\n\s+at /); // a sentence, not a stack trace
    expect(await terminate(running)).toBeLessThan(EXIT_BOUND_MS);
  });

  it.each(['command', 'projector', 'verifier'] as const)('%s with Postgres gone after start', async (app) => {
    const proxy = TcpProxy.forUrl(ctx.databaseUrl);
    await proxy.start();
    try {
      const running = startApp(app, ctx, { DATABASE_URL: proxy.rewrite(ctx.databaseUrl) });
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
      const running = startApp('command', ctx, { RELAY_BATCH_SIZE: '50' });
      await untilOutput(running, /holding the relay lock/);
      expect(await terminate(running)).toBeLessThan(EXIT_BOUND_MS);
      // Whatever the batch in flight was, the next relay publishes the rest.
      const next = startApp('command', ctx);
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
    const running = startApp('verifier', ctx, { VERIFIER_CATCH_UP_BATCH: '10' });
    await untilOutput(running, /listening on/);
    expect(await terminate(running)).toBeLessThan(EXIT_BOUND_MS);
  });
});
