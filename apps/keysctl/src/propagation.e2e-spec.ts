import { createTestContext, type TestContext, waitFor } from '@keys/testing';
import { keysctl } from '../../../test/fixtures/keysctl.fixture';
import { type RunningVerifierApp, type VerifyClient, startVerifierApp, verifyClient } from '../../../test/fixtures/verifier-app.fixture';

// keysctl's writes agree with verification like the command service's (docs/verification.md, "Consistency with
// writes"): it returns once every serving verifier has applied the write, and says so.
describe('keysctl writes and the verifiers', () => {
  let ctx: TestContext;
  let env: Record<string, string>;
  let verifier: RunningVerifierApp | undefined;
  let client: VerifyClient;

  beforeAll(async () => {
    ctx = await createTestContext();
    env = { DATABASE_URL: ctx.databaseUrl, NATS_URL: ctx.natsUrl, KEYS_STREAM: ctx.streamName, KEYS_SUBJECT_PREFIX: ctx.subjectPrefix, KEYSCTL_OPERATOR: 'alice' };
    expect((await keysctl(['db', 'migrate'], env)).code).toBe(0);
    client = await verifyClient(ctx);
  });
  afterAll(async () => {
    await verifier?.close();
    await client?.close();
    await ctx?.dispose();
  });

  it('with no verifier serving, reports propagation confirmed (vacuously: none has to apply it)', async () => {
    const account = await keysctl(['accounts', 'create', '--name', 'Before'], env);
    expect(account.code).toBe(0);
    expect(account.stderr).toContain('propagation: confirmed');
  });

  it('returns keys that a serving verifier answers VALID at once, with propagation confirmed', async () => {
    verifier = await startVerifierApp(ctx);
    await verifier.serving();

    const account = await keysctl(['accounts', 'create', '--name', 'Acme', '--json'], env);
    expect(account.code).toBe(0);
    const created = JSON.parse(account.stdout);
    expect(created.propagation).toBe('confirmed');
    expect((await client.verify(created.billingKey.key, 'billing')).code).toBe('VALID');

    const proxy = await keysctl(['keys', 'create', '--account', String(created.accountId), '--type', 'proxy', '--name', 'edge'], env);
    expect(proxy.code).toBe(0);
    expect(proxy.stderr).toContain('propagation: confirmed');
    const key = /: (ms-\S+)/.exec(proxy.stdout)?.[1] as string;
    expect(key).toBeDefined();
    expect(proxy.stderr).not.toContain(key); // the secret appears only in the result
    expect((await client.verify(key, 'proxy')).code).toBe('VALID');
  });

  it('revokes a key (any account, even the last billing key) that the verifier answers REVOKED at once; a repeat changes nothing', async () => {
    const account = JSON.parse((await keysctl(['accounts', 'create', '--name', 'Leaky', '--json'], env)).stdout);
    const billing = account.billingKey;
    expect((await client.verify(billing.key, 'billing')).code).toBe('VALID');

    const run = await keysctl(['keys', 'revoke', '--key-id', String(billing.id), '--reason', 'pasted in a public gist (ticket 42)', '--json'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      id: billing.id,
      accountId: account.accountId,
      type: 'billing',
      prefix: billing.prefix,
      revokedAt: expect.any(String),
      revokedReason: 'operator',
      alreadyRevoked: false,
      propagation: 'confirmed',
    });
    expect((await client.verify(billing.key, 'billing')).code).toBe('REVOKED');

    const again = await keysctl(['keys', 'revoke', '--key-id', String(billing.id), '--reason', 'again', '--json'], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ alreadyRevoked: true, revokedReason: 'operator' });

    const history = await keysctl(['audit', 'history', '--key', String(billing.id), '--json'], env);
    expect(history.stdout).toContain('KeyRevoked');
    expect(history.stdout).toContain('ticket 42');
    expect(history.stdout).not.toContain(billing.key);
    const state = JSON.parse((await keysctl(['audit', 'state', '--account', String(account.accountId), '--as-of', new Date().toISOString(), '--json'], env)).stdout);
    expect(state.keys[0]).toMatchObject({ id: billing.id, status: 'revoked', revokedReason: 'operator' });
  });

  it('refuses to revoke with a bad reason (exit 2) or a missing key (exit 1)', async () => {
    const keyShaped = await keysctl(['keys', 'revoke', '--key-id', '1', '--reason', `ms-${'A'.repeat(49)}`], env);
    expect(keyShaped.code).toBe(2);
    expect(keyShaped.stderr).toContain('must not contain a key');
    expect(keyShaped.stderr).not.toContain('A'.repeat(49));
    const missing = await keysctl(['keys', 'revoke', '--key-id', '999999', '--reason', 'x', '--json'], env);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).error.code).toBe('key_not_found');
  });

  it('with NATS unreachable, still writes and reports propagation unconfirmed', async () => {
    const account = JSON.parse((await keysctl(['accounts', 'create', '--name', 'Offline', '--json'], env)).stdout);
    const run = await keysctl(['keys', 'create', '--account', String(account.accountId), '--type', 'proxy', '--name', 'cut off', '--json'], { ...env, NATS_URL: 'nats://127.0.0.1:1' });
    expect(run.code).toBe(0);
    const issued = JSON.parse(run.stdout);
    expect(issued.propagation).toBe('unconfirmed');
    expect(run.stderr).toContain('propagation: unconfirmed (cannot reach NATS at nats://127.0.0.1:1 (NATS_URL)');
    // The write happened: the verifier applies it from the store.
    await waitFor(async () => (await client.verify(issued.key, 'proxy')).code === 'VALID', { timeoutMs: 10_000 });
  });
});
