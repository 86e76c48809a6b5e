import { readStream } from '@keys/event-store';
import { createTestContext, type TestContext } from '@keys/testing';
import { apiClient, openKeyService, startCommandApp } from '../../../test/fixtures/command-app.fixture';
import { keysctl } from '../../../test/fixtures/keysctl.fixture';

describe('keysctl accounts/keys', () => {
  let ctx: TestContext;
  let env: Record<string, string>;

  beforeAll(async () => {
    ctx = await createTestContext();
    env = { DATABASE_URL: ctx.databaseUrl, NATS_URL: ctx.natsUrl, KEYS_STREAM: ctx.streamName, KEYS_SUBJECT_PREFIX: ctx.subjectPrefix, KEYSCTL_OPERATOR: 'alice' };
    // keysctl writes only to a migrated store; the test context's database is created but empty.
    const migrated = await keysctl(['db', 'migrate'], env);
    expect(migrated.code).toBe(0);
  });
  afterAll(async () => ctx?.dispose());

  it('bootstraps an account whose billing key works on the API, printing only one JSON object on stdout', async () => {
    const result = await keysctl(['accounts', 'create', '--name', 'Acme', '--json'], env);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    const out = JSON.parse(result.stdout);
    // No verifier runs: every serving verifier (none) has applied the write, so `confirmed` vacuously.
    expect(out).toEqual({ accountId: expect.any(Number), billingKey: { id: expect.any(Number), key: expect.stringMatching(/^mk-/), prefix: out.billingKey.key.slice(0, 8) }, propagation: 'confirmed' });
    expect(result.stderr).not.toContain(out.billingKey.key);

    const app = await startCommandApp(ctx);
    const store = await openKeyService(ctx);
    try {
      const res = await apiClient(app.baseUrl, out.billingKey.key).post('/api/keys', { name: 'first' });
      expect(res.status).toBe(201);
      const [created] = await readStream(store.db as never, `key-${out.billingKey.id}`);
      expect(created.metadata.actor).toEqual({ type: 'operator', name: 'alice' });
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('creates proxy and billing keys for an account, with an optional expiry', async () => {
    const account = JSON.parse((await keysctl(['accounts', 'create', '--name', 'Keys Inc', '--json'], env)).stdout);
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const proxy = await keysctl(['keys', 'create', '--account', String(account.accountId), '--type', 'proxy', '--name', 'edge', '--expires-at', expiresAt, '--json'], env);
    expect(proxy.code).toBe(0);
    expect(JSON.parse(proxy.stdout)).toMatchObject({ key: expect.stringMatching(/^ms-/), type: 'proxy', name: 'edge', accountId: account.accountId, expiresAt });
    const billing = await keysctl(['keys', 'create', '--account', String(account.accountId), '--type', 'billing', '--name', 'ops', '--json'], env);
    expect(JSON.parse(billing.stdout)).toMatchObject({ key: expect.stringMatching(/^mk-/), type: 'billing' });
  });

  it('refuses bad usage with exit code 2 and a message on stderr, and an unknown account with exit code 1', async () => {
    const usage = await keysctl(['keys', 'create', '--account', '1', '--type', 'gold', '--name', 'x'], env);
    expect(usage.code).toBe(2);
    expect(usage.stdout).toBe('');
    expect(usage.stderr).toContain('--type must be proxy or billing');
    const missing = await keysctl(['keys', 'create', '--account', '999999', '--type', 'proxy', '--name', 'x', '--json'], env);
    expect(missing.code).toBe(1);
    // With --json the error is the one JSON object on stdout.
    expect(JSON.parse(missing.stdout)).toEqual({ error: { message: 'No account 999999.', code: 'account_not_found' } });
  });
});
